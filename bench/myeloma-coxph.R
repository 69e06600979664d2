# R coxph on the folds of an mmsurv run over the myeloma cohort: per fold, fit on the training ids, predict the
# linear predictor of the validation ids, Harrell's C = concordance(Surv(time, event) ~ lp, reverse = TRUE).
# Usage: Rscript bench/myeloma-coxph.R <myeloma csv> <run dir>
suppressPackageStartupMessages({ library(survival); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = TRUE)
splits <- fromJSON(file.path(args[2], "splits.json"), simplifyVector = FALSE)
f <- Surv(time, event) ~ CCND1 + CRIM1 + DEPDC1 + IRF4 + TP53 + WHSC1 + molecular_group + chr1q21_status  # treatment is TT2 for every patient
out <- sapply(splits$assignments, function(a) {
  tr <- d[d$sample_id %in% unlist(a$train), ]
  va <- d[d$sample_id %in% unlist(a$val), ]
  fit <- coxph(f, data = tr, ties = "breslow")
  lp <- predict(fit, newdata = va, type = "lp")
  concordance(Surv(va$time, va$event) ~ lp, reverse = TRUE)$concordance
})
cat(toJSON(list(c_index = out, mean = mean(out), sd = sd(out), survival = as.character(packageVersion("survival"))), digits = NA, auto_unbox = TRUE), "\n")

# Writes the R reference values that mmsurv's survival metrics are tested against (tests/reference/*.json).
#
#   Rscript tests/reference/R/make-reference.R [output directory]
#
# Run from the repository root (or anywhere: paths are resolved from this script's location). The output directory
# defaults to tests/reference. Needs R with survival and riskRegression (Debian: r-base-core r-cran-survival
# r-cran-riskregression); jsonlite is only used to re-read the files written (a round-trip check).
# tests/reference/README.md describes every field.

local({
  args <- commandArgs(trailingOnly = FALSE)
  file_arg <- sub("^--file=", "", args[grepl("^--file=", args)])
  script_dir <<- if (length(file_arg) == 1) dirname(normalizePath(file_arg)) else normalizePath("tests/reference/R")
})
repo_root <- normalizePath(file.path(script_dir, "..", "..", ".."))
out_args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(out_args) >= 1) out_args[1] else file.path(repo_root, "tests", "reference")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

source(file.path(script_dir, "json-writer.R"))
source(file.path(script_dir, "reference-lib.R"))
source(file.path(script_dir, "check-conventions.R"))

cohort_dir <- file.path(repo_root, "tests", "fixtures", "cohorts")
golden_file <- file.path(repo_root, "tests", "fixtures", "golden", "sksurv_pycox_toy.json")

versions <- list(
  R = paste(R.version$major, R.version$minor, sep = "."),
  R_string = R.version.string,
  survival = as.character(packageVersion("survival")),
  riskRegression = as.character(packageVersion("riskRegression")),
  prodlim = as.character(packageVersion("prodlim"))
)
generated_by <- list(
  script = "tests/reference/R/make-reference.R",
  command = "Rscript tests/reference/R/make-reference.R [output directory, default tests/reference]"
)

strip <- function(ref) ref[setdiff(names(ref), c("fit", "km_fit"))]
finish <- function(ref, file) {
  check_conventions(ref) # independent re-implementations of the conventions, asserted against R's numbers
  out <- c(strip(ref), list(versions = versions, generated_by = generated_by))
  write_json_file(out, file.path(out_dir, file))
  cat(sprintf("%-14s n=%4d  harrell=%.6f uno=%.6f  td_auc=%s  brier=%s  (%.1f s)\n", file, ref$n, ref$harrell_c,
              ref$uno_c, paste(sprintf("%.4f", ref$td_auc), collapse = ","),
              paste(sprintf("%.4f", ref$brier), collapse = ","), (proc.time() - t0)[["elapsed"]]))
}

read_cohort <- function(file, covariates) {
  d <- read.csv(file.path(cohort_dir, file), stringsAsFactors = FALSE)
  keep <- stats::complete.cases(d[, covariates, drop = FALSE])
  list(d = d[keep, , drop = FALSE], dropped = sum(!keep), n_file = nrow(d))
}

t0 <- proc.time()

# ---- survival::lung (NCCTG advanced lung cancer) --------------------------------------------------------------
x <- read_cohort("survival_lung.csv", c("age", "sex", "ph.ecog"))
x$d$event <- as.integer(x$d$status == 2)
finish(cohort_reference(
  name = "lung",
  source = "survival::lung (R package survival 3.5-3, Debian r-cran-survival, LGPL-2+), tests/fixtures/cohorts/survival_lung.csv",
  covariates = c("age", "sex", "ph.ecog"), formula_rhs = "age + sex + ph.ecog", d = x$d,
  time_col = "time", event_col = "event",
  extra = list(rows_in_file = x$n_file, rows_dropped_na = x$dropped,
               event_definition = "event = (status == 2); rows with NA in age, sex, ph.ecog dropped")
), "lung.json")

# ---- survival::veteran (VA lung cancer trial) ------------------------------------------------------------------
x <- read_cohort("survival_veteran.csv", c("karno", "age", "trt"))
x$d$event <- as.integer(x$d$status == 1)
finish(cohort_reference(
  name = "veteran",
  source = "survival::veteran (R package survival 3.5-3, Debian r-cran-survival, LGPL-2+), tests/fixtures/cohorts/survival_veteran.csv",
  covariates = c("karno", "age", "trt"), formula_rhs = "karno + age + trt", d = x$d,
  time_col = "time", event_col = "event",
  extra = list(rows_in_file = x$n_file, rows_dropped_na = x$dropped,
               event_definition = "event = (status == 1)")
), "veteran.json")

# ---- survival::gbsg (German Breast Cancer Study Group) ---------------------------------------------------------
x <- read_cohort("survival_gbsg.csv", c("size", "nodes", "grade", "hormon"))
x$d$event <- as.integer(x$d$status == 1)
finish(cohort_reference(
  name = "gbsg",
  source = "survival::gbsg (R package survival 3.5-3, Debian r-cran-survival, LGPL-2+), tests/fixtures/cohorts/survival_gbsg.csv",
  covariates = c("size", "nodes", "grade", "hormon"), formula_rhs = "size + nodes + grade + hormon", d = x$d,
  time_col = "rfstime", event_col = "event",
  extra = list(rows_in_file = x$n_file, rows_dropped_na = x$dropped,
               event_definition = "time = rfstime (days), event = (status == 1): recurrence-free survival")
), "gbsg.json")

# ---- survminer::myeloma (GEO GSE4581) --------------------------------------------------------------------------
x <- read_cohort("survminer_myeloma.csv", c("DEPDC1", "WHSC1", "CRIM1"))
finish(cohort_reference(
  name = "myeloma",
  source = "survminer::myeloma (R package survminer, Debian r-cran-survminer, GPL-2; GEO GSE4581), tests/fixtures/cohorts/survminer_myeloma.csv",
  covariates = c("log2(DEPDC1)", "log2(WHSC1)", "log2(CRIM1)"),
  formula_rhs = "log2(DEPDC1) + log2(WHSC1) + log2(CRIM1)", d = x$d,
  time_col = "time", event_col = "event",
  extra = list(rows_in_file = x$n_file, rows_dropped_na = x$dropped,
               event_definition = "time (months), event as in the file; one patient has time 0 (an event at 0)")
), "myeloma.json")

# ---- the 12-patient toy cohort of tests/fixtures/golden/sksurv_pycox_toy.json ----------------------------------
g <- jsonlite::fromJSON(golden_file)
toy <- data.frame(time = g$data$time, event = as.integer(g$data$event), risk = g$data$risk)
ref <- cohort_reference(
  name = "toy",
  source = "tests/fixtures/golden/sksurv_pycox_toy.json, key data (12 made-up patients with tied times and tied risks)",
  covariates = c("risk"), formula_rhs = "risk", d = toy, time_col = "time", event_col = "event",
  times = g$cd_auc_sksurv_1d_risk$times, tau = 12, risk = toy$risk,
  extra = list(event_definition = "time, event as in the golden file")
)
ref$risk_definition <- paste(
  "risk = the toy's given risk (golden data.risk), NOT the Cox linear predictor; harrell/uno/logrank/td_auc_risk/",
  "cox_loglik use it. surv, td_auc, brier, ibs, iauc and breslow_cumhaz come from coxph(Surv(time, event) ~ risk,",
  "ties = \"breslow\") whose linear predictor is `lp` (monotone in risk, coefficient > 0)")
ref$times_definition <- "golden cd_auc_sksurv_1d_risk.times = [4, 9, 12]"
ref$tau_definition <- "12, as golden uno_sksurv_tau12"
# Cross-checks against the scikit-survival / pycox golden values, all recomputed here in R.
sk_auc <- g$cd_auc_sksurv_1d_risk$auc
lr_golden <- logrank_reference(toy$time, toy$event, g$logrank_sksurv$group, numeric(0))
ref$golden_check <- list(
  harrell_sksurv = I(g$harrell_sksurv),
  km_sksurv_times = I(g$km$times), km_sksurv_surv = I(g$km$surv),
  cd_auc_sksurv_times = I(g$cd_auc_sksurv_1d_risk$times),
  cd_auc_sksurv = I(sk_auc),
  iauc_sksurv = g$cd_auc_sksurv_1d_risk$iauc,
  iauc_from_sksurv_auc_in_R = sksurv_iauc(sk_auc, ref$km_at_times$surv),
  uno_sksurv_tau12 = g$uno_sksurv_tau12,
  logrank_sksurv_chisq = g$logrank_sksurv$chisq, logrank_sksurv_p = g$logrank_sksurv$p,
  logrank_on_sksurv_group = lr_golden,
  cd_auc_sksurv_recomputed_in_R = I(vapply(g$cd_auc_sksurv_1d_risk$times, function(t)
    auc_ipcw(toy$time, toy$event, toy$risk, t, censoring_km(toy$time, toy$event), left = FALSE), 0)),
  uno_sksurv_tau12_recomputed_in_R = pair_concordance(toy$time, toy$event, toy$risk,
    function(t) 1 / censoring_km(toy$time, toy$event)(t)^2, tau = 12, strict_tau = TRUE)$c,
  note = paste(
    "iauc_from_sksurv_auc_in_R applies iauc_definition to the sksurv AUC values and equals iauc_sksurv.",
    "td_auc_risk (riskRegression: cases weighted 1/G(T_i-)) differs from cd_auc_sksurv (scikit-survival: 1/G(T_i))",
    "where a censoring falls at or before a case's own time; cd_auc_sksurv_recomputed_in_R uses 1/G(T_i) and equals",
    "cd_auc_sksurv. uno_c (survival: weight 1/G(T_i-)^2, cases T_i <= tau) differs from uno_sksurv_tau12",
    "(scikit-survival concordance_index_ipcw: 1/G(T_i)^2, cases T_i < tau strictly); uno_sksurv_tau12_recomputed_in_R",
    "uses the scikit-survival rule and equals it. G is the censoring Kaplan-Meier with events leaving the risk set",
    "before censorings at the same time (all three packages).")
)
stopifnot(abs(ref$golden_check$iauc_from_sksurv_auc_in_R - ref$golden_check$iauc_sksurv) < 1e-12)
stopifnot(max(abs(ref$golden_check$cd_auc_sksurv_recomputed_in_R - sk_auc)) < 1e-12)
stopifnot(abs(ref$golden_check$uno_sksurv_tau12_recomputed_in_R - g$uno_sksurv_tau12) < 1e-12)
# survfit's median on small made-up curves (flat stretches at exactly 0.5, never below 0.5)
median_case <- function(time, event, what) {
  q <- quantile(survfit(Surv(time, event) ~ 1), probs = 0.5)
  num <- function(x) if (is.na(x)) NULL else unname(x)
  list(what = what, time = I(time), event = I(as.integer(event)), median = num(q$quantile),
       lower = num(q$lower), upper = num(q$upper))
}
ref$km_median_cases <- list(
  median_case(c(1, 2, 3, 4), c(1, 1, 1, 1), "S = 0.5 on [2, 3): midpoint 2.5"),
  median_case(c(1, 2, 3, 4, 5, 6), c(1, 1, 1, 0, 1, 1), "S = 0.5 on [3, 5) with a censoring at 4 inside: midpoint of 3 and the next drop 5"),
  median_case(c(1, 2), c(1, 0), "S = 0.5 from 1 to the end (censored at 2): midpoint of 1 and the last time 2"),
  median_case(c(1, 2, 3, 4, 5), c(1, 0, 0, 0, 0), "S never reaches 0.5: null"),
  median_case(c(1, 2, 3, 4, 5, 6, 7, 8), c(1, 1, 1, 1, 0, 1, 1, 1), "S = 0.5 at 4 then drops at 6 (censoring at 5): midpoint 5")
)
for (case in ref$km_median_cases) {
  f <- survfit(Surv(unclass(case$time), case$event) ~ 1)
  nul <- function(v) if (is.null(v)) NA_real_ else v
  stopifnot(identical(nul(case$median), survfit_quantile_rule(f$time, f$surv)),
            identical(nul(case$lower), survfit_quantile_rule(f$time, f$lower)),
            identical(nul(case$upper), survfit_quantile_rule(f$time, f$upper)))
}
stopifnot(abs(ref$harrell_c - g$harrell_sksurv[1]) < 1e-12,
          ref$harrell_counts$concordant == g$harrell_sksurv[2], ref$harrell_counts$discordant == g$harrell_sksurv[3],
          ref$harrell_counts$tied_x == g$harrell_sksurv[4])
stopifnot(max(abs(ref$km$surv - g$km$surv)) < 1e-12)
stopifnot(abs(lr_golden$chisq - g$logrank_sksurv$chisq) < 1e-9, abs(lr_golden$p - g$logrank_sksurv$p) < 1e-9)
finish(ref, "toy.json")

cat(sprintf("done in %.1f s, written to %s\n", (proc.time() - t0)[["elapsed"]], normalizePath(out_dir)))

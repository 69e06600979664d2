# Reference values for mmsurv's survival metrics, computed with R survival and riskRegression.
# Sourced by make-reference.R. Every function takes plain vectors: time, event (0/1), risk (higher = earlier event).

suppressPackageStartupMessages({
  library(survival)
  library(riskRegression)
  library(prodlim) # Hist() in the Score formula
})

# ---------------------------------------------------------------------------------------------------------------
# Concordance (survival::concordance)

concordance_counts <- function(cfit) {
  cnt <- cfit$count
  list(
    concordant = unname(cnt["concordant"]), discordant = unname(cnt["discordant"]),
    tied_x = unname(cnt["tied.x"]), tied_y = unname(cnt["tied.y"]), tied_xy = unname(cnt["tied.xy"])
  )
}

harrell <- function(time, event, risk) {
  df <- data.frame(time = time, event = event, risk = risk)
  concordance(Surv(time, event) ~ risk, data = df, reverse = TRUE)
}

uno <- function(time, event, risk, tau) {
  df <- data.frame(time = time, event = event, risk = risk)
  concordance(Surv(time, event) ~ risk, data = df, reverse = TRUE, timewt = "n/G2", ymax = tau)
}

# ---------------------------------------------------------------------------------------------------------------
# Kaplan-Meier (survival::survfit, conf.type "log", conf.int 0.95)

km_reference <- function(time, event, times) {
  fit <- survfit(Surv(time, event) ~ 1) # defaults: conf.type = "log", conf.int = 0.95
  fin <- function(x) ifelse(is.finite(x), x, NA_real_)
  steps <- list(
    time = I(fit$time), n_risk = I(fit$n.risk), n_event = I(fit$n.event), n_censor = I(fit$n.censor),
    surv = I(fit$surv),
    std_err = I(fin(fit$std.err)), # survfit's $std.err: standard error of the cumulative hazard -log S(t)
    std_err_surv = I(fin(fit$std.err * fit$surv)), # standard error of S(t) itself (what summary() prints)
    lower = I(fin(fit$lower)), upper = I(fin(fit$upper))
  )
  s <- summary(fit, times = times, extend = TRUE)
  at <- list(
    time = I(s$time), n_risk = I(s$n.risk), surv = I(s$surv),
    std_err = I(fin(s$std.err / s$surv)), std_err_surv = I(fin(s$std.err)),
    lower = I(fin(s$lower)), upper = I(fin(s$upper))
  )
  q <- quantile(fit, probs = 0.5)
  num <- function(x) if (length(x) == 0 || is.na(x)) NULL else unname(x)
  list(
    fit = fit,
    km = steps,
    km_at_times = at,
    km_median = num(q$quantile),
    km_median_lower = num(q$lower),
    km_median_upper = num(q$upper)
  )
}

# ---------------------------------------------------------------------------------------------------------------
# Log-rank (survival::survdiff)

logrank_reference <- function(time, event, group, cuts) {
  df <- data.frame(time = time, event = event, group = factor(group))
  sd <- survdiff(Surv(time, event) ~ group, data = df)
  df_ <- sum(sd$exp > 0) - 1
  list(
    cuts = I(cuts),
    group = I(as.integer(group)),
    levels = I(as.integer(levels(df$group))),
    chisq = sd$chisq,
    df = df_,
    p = pchisq(sd$chisq, df_, lower.tail = FALSE),
    observed = I(unname(sd$obs)),
    expected = I(unname(sd$exp)),
    var = unname(sd$var)
  )
}

# group = number of cut points strictly below the risk (a risk equal to a cut point goes to the lower group)
group_by_cuts <- function(risk, cuts) {
  as.integer(vapply(risk, function(r) sum(cuts < r), 0L))
}

# ---------------------------------------------------------------------------------------------------------------
# riskRegression::Score: cumulative/dynamic AUC and Brier with Kaplan-Meier censoring weights

score_reference <- function(time, event, pred_event_prob, risk, times) {
  d <- data.frame(time = time, event = event)
  sc <- Score(list(cox = pred_event_prob), formula = Hist(time, event) ~ 1, data = d, times = times,
              metrics = c("auc", "brier"), cens.model = "km", null.model = FALSE, conf.int = FALSE)
  auc <- as.data.frame(sc$AUC$score)
  brier <- as.data.frame(sc$Brier$score)
  stopifnot(isTRUE(all.equal(auc$times, times)), isTRUE(all.equal(brier$times, times)))
  # The same AUC with a score that is not a probability: the linear predictor, one column per time.
  risk_mat <- matrix(risk, nrow = length(risk), ncol = length(times))
  sc_risk <- Score(list(lp = risk_mat), formula = Hist(time, event) ~ 1, data = d, times = times,
                   metrics = "auc", cens.model = "km", null.model = FALSE, conf.int = FALSE)
  auc_risk <- as.data.frame(sc_risk$AUC$score)
  stopifnot(isTRUE(all.equal(auc_risk$times, times)))
  list(td_auc = auc$AUC, brier = brier$Brier, td_auc_risk = auc_risk$AUC)
}

# IBS: trapezoid of the Score Brier values over the grid, divided by its span.
trapezoid_ibs <- function(times, brier) {
  k <- length(times)
  sum(diff(times) * (brier[-1] + brier[-k]) / 2) / (times[k] - times[1])
}

# iAUC as scikit-survival's cumulative_dynamic_auc returns it (its second value, mean_auc):
#   S = Kaplan-Meier of the test data at the times (right-continuous), S(t_0) := 1,
#   iauc = sum_k auc_k * (S(t_{k-1}) - S(t_k)) / (1 - S(t_K)).
sksurv_iauc <- function(auc, km_at_times_surv) {
  auc <- as.double(unclass(auc))
  if (length(auc) == 1) return(auc)
  s <- as.double(unclass(km_at_times_surv))
  w <- -diff(c(1, s))
  sum(auc * w) / (1 - s[length(s)])
}

# ---------------------------------------------------------------------------------------------------------------
# Cox partial log-likelihood at given scores (offset), Breslow and Efron ties

cox_loglik_offset <- function(time, event, offset, ties) {
  df <- data.frame(time = time, event = event, off = offset)
  fit <- coxph(Surv(time, event) ~ offset(off), data = df, ties = ties)
  fit$loglik[1]
}

# A 10-case subset (0-based indices) that contains tied event times (and a censored case tied with them when the
# cohort has one), the rest drawn at random with a fixed seed.
tied_subset <- function(time, event, seed, size = 10L) {
  set.seed(seed)
  n <- length(time)
  et <- table(time[event == 1])
  tied_times <- as.numeric(names(et)[et >= 2])
  if (length(tied_times) == 0) stop("no tied event times in this cohort")
  with_censor <- tied_times[vapply(tied_times, function(t) any(time == t & event == 0), TRUE)]
  pick_from <- if (length(with_censor) > 0) with_censor else tied_times
  t0 <- pick_from[sample.int(length(pick_from), 1)]
  core <- which(time == t0)
  core <- c(core[event[core] == 1][1:2], core[event[core] == 0][seq_len(min(1, sum(event[core] == 0)))])
  rest <- setdiff(seq_len(n), core)
  idx <- sort(c(core, rest[sample.int(length(rest), size - length(core))]))
  list(idx = idx, tied_time = t0)
}

# ---------------------------------------------------------------------------------------------------------------
# One cohort: everything in one list, ready for write_json_file

evaluation_grid <- function(time, event) {
  # 20/40/60/80 % quantiles of the event times, type = 1 (an observed event time, no interpolation: so the grid
  # lies exactly on event times and the "<= t" conventions are exercised)
  unname(quantile(time[event == 1], c(0.2, 0.4, 0.6, 0.8), type = 1))
}

cohort_reference <- function(name, source, covariates, formula_rhs, d, time_col, event_col, tau = NULL,
                             times = NULL, risk = NULL, seed = 20240611L, extra = list()) {
  time <- d[[time_col]]
  event <- as.integer(d[[event_col]])
  n <- length(time)
  df <- d
  df$.time <- time
  df$.event <- event
  fit <- coxph(as.formula(paste("Surv(.time, .event) ~", formula_rhs)), data = df, ties = "breslow")
  lp <- unname(predict(fit, type = "lp"))
  if (is.null(risk)) risk <- lp
  risk_tied <- round(risk, 1)
  if (is.null(times)) times <- evaluation_grid(time, event)
  if (is.null(tau)) tau <- unname(quantile(time, 0.8, type = 1))

  # S(t | x_i) from the Cox fit, Breslow baseline (ties = "breslow" -> survfit ctype 1, S = exp(-H))
  sf <- survfit(fit, newdata = df)
  ss <- summary(sf, times = times, extend = TRUE)
  surv <- t(ss$surv) # [n, times]
  stopifnot(nrow(surv) == n, ncol(surv) == length(times))

  bh <- basehaz(fit, centered = FALSE)
  bhc <- basehaz(fit, centered = TRUE)
  lp_center <- sum(coef(fit) * fit$means)

  h <- harrell(time, event, risk)
  ht <- harrell(time, event, risk_tied)
  u <- uno(time, event, risk, tau)
  ut <- uno(time, event, risk_tied, tau)

  kmr <- km_reference(time, event, times)

  g2 <- group_by_cuts(risk, median(risk))
  cuts3 <- unname(quantile(risk, c(1 / 3, 2 / 3)))
  g3 <- group_by_cuts(risk, cuts3)

  sc <- score_reference(time, event, 1 - surv, risk, times)
  ibs <- trapezoid_ibs(times, sc$brier)
  iauc <- sksurv_iauc(sc$td_auc, kmr$km_at_times$surv)
  iauc_risk <- sksurv_iauc(sc$td_auc_risk, kmr$km_at_times$surv)

  sub <- tied_subset(time, event, seed)
  i <- sub$idx

  c(list(
    cohort = name,
    source = source,
    n = n,
    time = I(time),
    event = I(event),
    covariates = I(covariates),
    cox_formula = paste("coxph(Surv(time, event) ~", formula_rhs, ", ties = \"breslow\")"),
    cox_coef = as.list(coef(fit)),
    risk_definition = "risk = predict(fit, type = \"lp\"): the centred linear predictor sum_j beta_j (x_ij - mean_j)",
    risk = I(risk),
    lp = I(lp),
    risk_tied = I(risk_tied),
    times = I(times),
    times_definition = "quantile(time[event == 1], c(0.2, 0.4, 0.6, 0.8), type = 1): observed event times",
    tau = tau,
    tau_definition = "quantile(time, 0.8, type = 1)",
    surv = surv,
    surv_definition = "summary(survfit(fit, newdata = d), times = times, extend = TRUE)$surv, transposed to [n][times]; equals exp(-breslow_cumhaz_centered(t) * exp(lp))",
    harrell_c = unname(h$concordance),
    harrell_counts = concordance_counts(h),
    harrell_c_tied = unname(ht$concordance),
    harrell_counts_tied = concordance_counts(ht),
    uno_c = unname(u$concordance),
    uno_counts = concordance_counts(u),
    uno_c_tied = unname(ut$concordance),
    uno_counts_tied = concordance_counts(ut),
    km = kmr$km,
    km_at_times = kmr$km_at_times,
    km_median = kmr$km_median,
    km_median_lower = kmr$km_median_lower,
    km_median_upper = kmr$km_median_upper,
    logrank2 = logrank_reference(time, event, g2, median(risk)),
    logrank3 = logrank_reference(time, event, g3, cuts3),
    logrank_group_rule = "group = number of cut points strictly below the risk (risk == cut goes to the lower group); logrank2 cut = median(risk), logrank3 cuts = quantile(risk, c(1/3, 2/3)) (type 7)",
    td_auc = I(sc$td_auc),
    brier = I(sc$brier),
    td_auc_risk = I(sc$td_auc_risk),
    ibs = ibs,
    ibs_definition = "sum_k (times[k+1] - times[k]) * (brier[k] + brier[k+1]) / 2 / (times[K] - times[1]): trapezoid of the riskRegression::Score Brier values over the grid, divided by its span (computed in R)",
    iauc = iauc,
    iauc_risk = iauc_risk,
    iauc_definition = "scikit-survival cumulative_dynamic_auc mean_auc: with S = Kaplan-Meier of (time, event) evaluated at the grid (right-continuous, km_at_times.surv) and S(t_0) := 1, iauc = sum_k td_auc[k] * (S(t_{k-1}) - S(t_k)) / (1 - S(t_K)); iauc_risk is the same from td_auc_risk",
    cox_loglik_breslow = cox_loglik_offset(time, event, risk, "breslow"),
    cox_loglik_efron = cox_loglik_offset(time, event, risk, "efron"),
    cox_loglik_definition = "coxph(Surv(time, event) ~ offset(risk), ties = ...)$loglik: the partial log-likelihood (a sum, not a mean) at the scores `risk`",
    cox_subset = list(
      index = I(i - 1L),
      tied_time = sub$tied_time,
      loglik_breslow = cox_loglik_offset(time[i], event[i], risk[i], "breslow"),
      loglik_efron = cox_loglik_offset(time[i], event[i], risk[i], "efron")
    ),
    breslow_cumhaz = list(time = I(bh$time), hazard = I(bh$hazard)),
    breslow_cumhaz_centered = list(time = I(bhc$time), hazard = I(bhc$hazard)),
    lp_center = lp_center,
    breslow_definition = "basehaz(fit, centered = FALSE): H0 at x = 0 (pairs with lp + lp_center); breslow_cumhaz_centered = basehaz(fit, centered = TRUE): H0 at the covariate means (pairs with lp); one row per unique time (event or censoring)"
  ), extra, list(fit = fit, km_fit = kmr$fit))
}

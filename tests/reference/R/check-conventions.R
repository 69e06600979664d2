# Plain re-implementations (loops over pairs and times, no package code) of the conventions that survival and
# riskRegression use, asserted against the package values for every cohort. If R ever changes a convention, the
# generator stops here instead of writing silently different reference values. README.md states the same rules.

censoring_km <- function(time, event) {
  # G: Kaplan-Meier of the censoring distribution. At a time c with both events and censorings the events leave
  # the risk set first, so the factor at c is 1 - n_cens(c) / (n(time > c) + n_cens(c)) -- not the
  # n(time >= c) of survfit(Surv(time, 1 - event) ~ 1). Both prodlim(reverse = TRUE) (used by riskRegression::Score)
  # and survival's concordance (C code fastkm1) do this; so does scikit-survival's reverse Kaplan-Meier.
  # Returns a step function: G(t) (right-continuous) or, with left = TRUE, the left limit G(t-).
  ut <- sort(unique(time[event == 0]))
  g <- cumprod(vapply(ut, function(t) 1 - sum(time == t & event == 0) / (sum(time > t) + sum(time == t & event == 0)), 0))
  function(t, left = FALSE) {
    k <- if (left) findInterval(t, ut, left.open = TRUE) else findInterval(t, ut)
    ifelse(k == 0, 1, g[pmax(k, 1)])
  }
}

pair_concordance <- function(time, event, risk, weight_at = function(t) rep(1, length(t)), tau = Inf, strict_tau = FALSE) {
  # comparable pair: i has an event and time[j] > time[i], or time[j] == time[i] with j censored (a censoring at
  # the same time counts as later); time[i] <= tau (survival's ymax) or time[i] < tau (strict_tau, scikit-survival's
  # concordance_index_ipcw); weight w(time[i]); tied risks count 1/2
  conc <- 0; disc <- 0; tx <- 0
  for (i in which(event == 1 & (if (strict_tau) time < tau else time <= tau))) {
    j <- which(time > time[i] | (time == time[i] & event == 0))
    w <- weight_at(time[i])
    conc <- conc + w * sum(risk[i] > risk[j])
    disc <- disc + w * sum(risk[i] < risk[j])
    tx <- tx + w * sum(risk[i] == risk[j])
  }
  list(c = (conc + tx / 2) / (conc + disc + tx), concordant = conc, discordant = disc, tied_x = tx)
}

auc_ipcw <- function(time, event, score, t, G, left = TRUE) {
  # cases: time <= t & event, weight 1/G(time_i-); controls: time > t, weight 1/G(t) (a constant at fixed t);
  # tied scores count 1/2. left = FALSE gives scikit-survival's cumulative_dynamic_auc (weight 1/G(time_i)).
  case <- which(time <= t & event == 1)
  ctrl <- which(time > t)
  wc <- 1 / G(time[case], left = left)
  num <- 0
  for (k in seq_along(case)) {
    num <- num + wc[k] * (sum(score[case[k]] > score[ctrl]) + 0.5 * sum(score[case[k]] == score[ctrl]))
  }
  num / (sum(wc) * length(ctrl))
}

brier_ipcw <- function(time, event, p_event, t, G) {
  # (1 - p)^2 / G(time_i-) for an event at or before t; p^2 / G(t) for time > t; 0 for a censoring at or before t;
  # the mean over all n
  r <- ifelse(time <= t & event == 1, (1 - p_event)^2 / G(time, left = TRUE),
              ifelse(time > t, p_event^2 / G(t), 0))
  mean(r)
}

cox_pll <- function(time, event, r, ties) {
  ll <- 0
  for (t in sort(unique(time[event == 1]))) {
    dead <- which(time == t & event == 1)
    at_risk <- sum(exp(r[time >= t]))
    d <- length(dead)
    if (ties == "breslow") {
      ll <- ll + sum(r[dead]) - d * log(at_risk)
    } else {
      dsum <- sum(exp(r[dead]))
      ll <- ll + sum(r[dead]) - sum(log(at_risk - (0:(d - 1)) / d * dsum))
    }
  }
  ll
}

survfit_quantile_rule <- function(time, curve, p = 0.5, tol = sqrt(.Machine$double.eps)) {
  # survfit's quantile (survival:::findq), restated: prepend (0, S = 1); q = the first time the curve reaches
  # S <= 1 - p. If the curve equals 1 - p (within tol) on a flat stretch, q = the midpoint of the time it first
  # reaches 1 - p and the next time it drops; if it stays at 1 - p to the end, the midpoint of that time and the
  # last follow-up time (event or censoring). NA when the curve never reaches 1 - p. Used for the median (curve =
  # surv) and its confidence limits (curve = lower gives km_median_lower, curve = upper gives km_median_upper).
  x <- c(0, time); y <- c(0, 1 - curve)
  xmax <- x[length(x)]
  if (max(y, na.rm = TRUE) < p) return(NA_real_)
  keep <- !duplicated(y); x <- x[keep]; y <- y[keep]
  ok <- !is.na(y)
  first <- function(cond) { i <- which(ok & cond); if (length(i) == 0) NA_integer_ else i[1] }
  i1 <- first(y + tol >= p)
  i2 <- first(y - tol >= p)
  q <- (x[i1] + x[i2]) / 2
  if (!is.na(y[length(y)]) && abs(p - y[length(y)]) < tol) q <- (x[i1] + xmax) / 2
  q
}

near <- function(a, b, what, tol = 1e-10) {
  a <- unclass(unlist(a)); b <- unclass(unlist(b))
  ok <- length(a) == length(b) && all((is.na(a) & is.na(b)) | abs(a - b) <= tol * pmax(1, abs(b)), na.rm = TRUE)
  if (!isTRUE(ok)) stop(sprintf("convention check failed: %s: %s vs %s", what,
                                paste(format(a, digits = 12), collapse = " "), paste(format(b, digits = 12), collapse = " ")))
}

check_conventions <- function(ref) {
  time <- ref$time; event <- ref$event; risk <- unclass(ref$risk); times <- unclass(ref$times)
  lbl <- function(s) paste0(ref$cohort, ": ", s)
  # Harrell
  h <- pair_concordance(time, event, risk)
  near(h$c, ref$harrell_c, lbl("harrell_c"))
  near(c(h$concordant, h$discordant, h$tied_x), unlist(ref$harrell_counts[c("concordant", "discordant", "tied_x")]), lbl("harrell counts"))
  near(pair_concordance(time, event, unclass(ref$risk_tied))$c, ref$harrell_c_tied, lbl("harrell_c_tied"))
  # Uno: weight 1 / G(t-)^2, G as survival's fastkm1, pairs with time[i] <= tau
  G <- censoring_km(time, event)
  w <- function(t) 1 / G(t, left = TRUE)^2
  near(pair_concordance(time, event, risk, w, ref$tau)$c, ref$uno_c, lbl("uno_c"))
  near(pair_concordance(time, event, unclass(ref$risk_tied), w, ref$tau)$c, ref$uno_c_tied, lbl("uno_c_tied"))
  # Score: AUC and Brier with the same censoring Kaplan-Meier, G(T_i-) for cases and G(t) for controls
  p_event <- 1 - ref$surv
  near(vapply(seq_along(times), function(k) auc_ipcw(time, event, p_event[, k], times[k], G), 0), ref$td_auc, lbl("td_auc"))
  near(vapply(seq_along(times), function(k) auc_ipcw(time, event, risk, times[k], G), 0), ref$td_auc_risk, lbl("td_auc_risk"))
  near(vapply(seq_along(times), function(k) brier_ipcw(time, event, p_event[, k], times[k], G), 0), ref$brier, lbl("brier"))
  # Cox partial log-likelihood
  near(cox_pll(time, event, risk, "breslow"), ref$cox_loglik_breslow, lbl("cox_loglik_breslow"))
  near(cox_pll(time, event, risk, "efron"), ref$cox_loglik_efron, lbl("cox_loglik_efron"))
  i <- unclass(ref$cox_subset$index) + 1
  near(cox_pll(time[i], event[i], risk[i], "breslow"), ref$cox_subset$loglik_breslow, lbl("cox_subset breslow"))
  near(cox_pll(time[i], event[i], risk[i], "efron"), ref$cox_subset$loglik_efron, lbl("cox_subset efron"))
  # Breslow baseline (centred) and S(t | x) = exp(-H0c(t) exp(lp))
  lp <- unclass(ref$lp)
  bt <- sort(unique(time))
  h0 <- cumsum(vapply(bt, function(t) sum(time == t & event == 1) / sum(exp(lp[time >= t])), 0))
  near(h0, unclass(ref$breslow_cumhaz_centered$hazard), lbl("breslow_cumhaz_centered"))
  near(unclass(ref$breslow_cumhaz$hazard), h0 * exp(-ref$lp_center), lbl("breslow_cumhaz"))
  H <- vapply(times, function(t) { k <- findInterval(t, bt); if (k == 0) 0 else h0[k] }, 0)
  near(exp(-outer(exp(lp), H)), ref$surv, lbl("surv"))
  # Kaplan-Meier steps, log-scale confidence interval, median
  km <- ref$km
  s <- cumprod(1 - unclass(km$n_event) / unclass(km$n_risk))
  near(s, km$surv, lbl("km surv"))
  gw <- sqrt(cumsum(unclass(km$n_event) / (unclass(km$n_risk) * (unclass(km$n_risk) - unclass(km$n_event)))))
  ok <- is.finite(gw) & s > 0
  near(gw[ok], unclass(km$std_err)[ok], lbl("km std_err (Greenwood, se of -log S)"))
  z <- qnorm(0.975)
  near(pmin(1, (s * exp(z * gw))[ok]), unclass(km$upper)[ok], lbl("km upper"))
  near((s * exp(-z * gw))[ok], unclass(km$lower)[ok], lbl("km lower"))
  nul <- function(v) if (is.null(v)) NA_real_ else v
  near(nul(ref$km_median), survfit_quantile_rule(unclass(km$time), unclass(km$surv)), lbl("km_median"))
  near(nul(ref$km_median_lower), survfit_quantile_rule(unclass(km$time), unclass(km$lower)), lbl("km_median_lower"))
  near(nul(ref$km_median_upper), survfit_quantile_rule(unclass(km$time), unclass(km$upper)), lbl("km_median_upper"))
  # log-rank, two groups: (O1 - E1)^2 / V11 with the hypergeometric variance
  g <- unclass(ref$logrank2$group)
  o1 <- 0; e1 <- 0; v <- 0
  for (t in sort(unique(time[event == 1]))) {
    n <- sum(time >= t); n1 <- sum(time >= t & g == 1); d <- sum(time == t & event == 1)
    o1 <- o1 + sum(time == t & event == 1 & g == 1)
    e1 <- e1 + d * n1 / n
    if (n > 1) v <- v + d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)
  }
  near((o1 - e1)^2 / v, ref$logrank2$chisq, lbl("logrank2 chisq"))
  invisible(TRUE)
}

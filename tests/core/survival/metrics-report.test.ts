import { describe, expect, it } from 'vitest';
import { survivalReport } from '../../../core/survival/metrics-report.js';
import { harrellC } from '../../../core/survival/concordance.js';

describe('survivalReport', () => {
  const time = [5, 8, 12, 20, 25, 30, 41, 50];
  const event = [1, 1, 0, 1, 1, 0, 1, 0];
  const risk = [2.1, 1.5, 0.3, 1.2, 0.4, -0.2, -0.5, -1];

  it('leaves the time-dependent fields empty or null without times, and uno_c null without tau', () => {
    const { report } = survivalReport({ time, event, risk });
    expect(report.n).toBe(8);
    expect(report.events).toBe(5);
    expect(report.harrell_c).toBe(harrellC(time, event, risk).cIndex);
    expect(report.uno_c).toBeNull();
    expect(report.td_auc).toEqual([]);
    expect(report.iauc).toBeNull();
    expect(report.brier).toBeNull();
    expect(report.ibs).toBeNull();
    expect(report.km_surv).toEqual([]);
  });

  it('KM median: null when the curve stays above 0.5', () => {
    const { report } = survivalReport({ time, event: [1, 0, 0, 0, 0, 0, 0, 0], risk });
    expect(report.km_median).toBeNull();
  });

  it('skips the log-rank test with a warning when every risk is equal', () => {
    const { report, warnings } = survivalReport({ time, event, risk: time.map(() => 0.3) });
    expect(report.logrank_chisq).toBeNull();
    expect(report.logrank_p).toBeNull();
    expect(warnings.join('\n')).toMatch(/only one group/);
    expect(report.harrell_c).toBe(0.5);
  });

  it('ibs needs two times; one time still gives AUC and Brier', () => {
    const surv = risk.map((r) => [Math.exp(-0.02 * Math.exp(r) * 10)]);
    const { report } = survivalReport({ time, event, risk, times: [10], surv });
    expect(report.td_auc).toHaveLength(1);
    expect(report.brier).toHaveLength(1);
    expect(report.ibs).toBeNull();
    expect(report.iauc).toBe(report.td_auc[0]);
  });
});

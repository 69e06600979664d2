/**
 * The report of a binary run (e.g. CHIMERA Task 2): no survival figures, the per-fold ROC AUC figure, the binary
 * metrics table. Built from a run directory whose files are written here as `mmsurv train` writes them.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeRunReport } from '../../../core/report/write-report.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsurv-report-bin-'));
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

const fold = (k: number, auc: number) => ({
  fold: k, n_train: 16, n_val: 8, events_val: null, epochs: 3, best_epoch: 2, c_index: null, uno_c: null, iauc: null, ibs: null, seconds: 1.5,
  positives_val: 3, auc, f1_weighted: 0.7, accuracy: 0.75, log_loss: 0.6, brier: 0.2,
});

describe('report of a binary run', () => {
  it('draws the per-fold AUC and the binary metrics, and says the survival figures do not apply', async () => {
    writeFileSync(join(dir, 'summary.json'), JSON.stringify({
      name: 'brs', target: 'binary', c_index_mean: null, c_index_sd: null, uno_c_mean: null, uno_c_sd: null, iauc_mean: null, iauc_sd: null, ibs_mean: null, ibs_sd: null,
      c_index_pooled_oof: null, auc_mean: 0.7, auc_sd: 0.1, f1_weighted_mean: 0.7, f1_weighted_sd: 0, accuracy_mean: 0.75, accuracy_sd: 0, log_loss_mean: 0.6, log_loss_sd: 0,
      brier_mean: 0.2, brier_sd: 0, auc_pooled_oof: 0.68, eval_times: [], folds: [fold(1, 0.6), fold(2, 0.7), fold(3, 0.8)], seed: 1, backend: 'cpu', seconds: 5, config: { name: 'brs' },
    }));
    writeFileSync(join(dir, 'oof.csv'), 'id,fold,label,probability,logit\na,1,1,0.7,0.85\n');
    const r = await writeRunReport(dir);
    expect(r.data.km).toBeNull();
    const html = readFileSync(r.html, 'utf8');
    expect(html).toContain('data-plot="folds"');
    expect(html).not.toContain('data-plot="km-median"');
    expect(html).toContain('ROC AUC');
    expect(html).toContain('0.7000 ± 0.1000');
    const svg = readFileSync(join(dir, 'report', 'folds.svg'), 'utf8');
    for (const v of ['0.600', '0.700', '0.800']) expect(svg).toContain(`>${v}<`);
  });
});

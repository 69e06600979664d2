"""Do mmsurv and the PyTorch mirror compute the same risks from the same weights? (issue 8: relative error < 1e-4)

Runs `node dist/core/cli/bin.js predict --run RUN --case COHORT --fold K --json` (mmsurv, eval mode, every patch) and
load_mmsurv.py's PyTorch model with fold K's weights (core/train/load-run.ts format) on the same cohort, and prints
JSON: per case both risks and the errors, then

  max_rel_error      max_i |torch_i - mmsurv_i| / max(|mmsurv_i|, floor): the gate (exit 1 when >= --tol, 1e-4)
  max_abs_error      max_i |torch_i - mmsurv_i|
  max_scaled_error   max_abs_error / max_i |mmsurv_i| (error relative to the spread of the risks)
  float64            the same three for a float64 PyTorch forward (how far mmsurv's float32 is from exact)

floor (--floor; default 1% of max_i |mmsurv_i|) keeps a risk that happens to lie near 0 from turning float32
rounding into a large ratio (a 1e-6 rounding on a risk of 0.01 is 1e-4; the float64 column shows that error is
mmsurv's own float32 rounding, not a different computation); max_rel_error_raw is the ratio without the floor, and
near_zero_risks counts the cases below the floor.

Usage: /usr/bin/python3 bench/torch/agree.py --run RUN --cohort COHORT [--fold 1] [--mmsurv-json FILE] [--tol 1e-4]
(--mmsurv-json: use a saved `predict --json` output instead of running node).
"""
import argparse
import json
import os
import subprocess
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from load_mmsurv import case_inputs, load_fold, predict_risks, read_run_cohort  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))


def mmsurv_risks(run, cohort, fold, saved=None):
    if saved:
        with open(saved) as f:
            doc = json.load(f)
    else:
        cmd = ['node', os.path.join(REPO, 'dist', 'core', 'cli', 'bin.js'), 'predict', '--run', run, '--case', cohort,
               '--fold', str(fold), '--json', '-q']
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
        if p.returncode != 0:
            raise SystemExit(f'mmsurv predict failed ({p.returncode}):\n{p.stderr[-3000:]}')
        doc = json.loads(p.stdout)
    return {x['caseId']: float(x['risk']) for x in doc['predictions']}


def errors(ref, got, ids, floor):
    diff = [abs(got[i] - ref[i]) for i in ids]
    rel = [d / max(abs(ref[i]), floor) for d, i in zip(diff, ids)]
    raw = max(d / abs(ref[i]) if ref[i] != 0 else (0.0 if d == 0 else float('inf')) for d, i in zip(diff, ids))
    scale = max(abs(ref[i]) for i in ids) or 1.0
    return {'max_rel_error': max(rel), 'max_rel_error_raw': raw, 'max_abs_error': max(diff),
            'max_scaled_error': max(diff) / scale}, rel


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--run', required=True)
    ap.add_argument('--cohort', required=True)
    ap.add_argument('--fold', type=int, default=1)
    ap.add_argument('--tol', type=float, default=1e-4)
    ap.add_argument('--floor', type=float, help='denominator floor (default: 1%% of the largest |mmsurv risk|)')
    ap.add_argument('--mmsurv-json')
    ap.add_argument('--threads', type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    ref = mmsurv_risks(os.path.abspath(a.run), os.path.abspath(a.cohort), a.fold, a.mmsurv_json)
    model, config, state = load_fold(a.run, a.fold)
    cases = read_run_cohort(config, a.cohort)
    inputs = [case_inputs(c, config, state['encoders']) for c in cases]
    ids = [c['id'] for c in cases]
    missing = [i for i in ids if i not in ref]
    if missing:
        raise SystemExit(f'mmsurv predicted no risk for {len(missing)} case(s): {missing[:5]}')
    got = dict(zip(ids, predict_risks(model, inputs)))
    if a.floor is None:
        a.floor = max(1e-2 * max(abs(ref[i]) for i in ids), 1e-12)
    got64 = dict(zip(ids, predict_risks(model.double(), inputs, torch.float64)))
    summary, rel = errors(ref, got, ids, a.floor)
    summary64, _ = errors(ref, got64, ids, a.floor)
    out = {
        'run': os.path.abspath(a.run), 'fold': a.fold, 'cases': len(ids), 'model': config.get('name'),
        'encoders': {k: v['type'] for k, v in config['encoders'].items()}, 'fusion': config['fusion']['type'],
        **summary, 'tol': a.tol, 'floor': a.floor, 'near_zero_risks': sum(abs(ref[i]) < a.floor for i in ids),
        'float64': summary64, 'torch': torch.__version__, 'ok': summary['max_rel_error'] < a.tol,
        'per_case': [{'id': i, 'mmsurv': ref[i], 'torch': got[i], 'torch64': got64[i], 'rel_error': r} for i, r in zip(ids, rel)],
    }
    print(json.dumps(out, indent=1))
    sys.exit(0 if out['ok'] else 1)


if __name__ == '__main__':
    main()

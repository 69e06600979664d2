"""Timing side of the PyTorch benchmark (issue 8): training step, cross-validation and inference of the PyTorch mirror
(mmsurv_models.py) of an mmsurv model, printing one JSON object on stdout.

Models: --model abmil (plugins/common/presets/abmil.json with its head replaced by `cox`, as issue 8 defines it) or
chimera-bilinear (plugins/chimera-bilinear/preset.json), resolved by `mmsurv validate --json` (so layer sizes and
train settings are mmsurv's, defaults included); or --config FILE (any mmsurv config, or a run's config.resolved.json).

Modes (the training loop mirrors core/train/train-fold.ts and sampling.ts):
  step   median time of one optimiser step: per case forward (train mode, dropout on), concatenated risks, Cox loss,
         loss.item() (mmsurv reads the loss back each step), backward, Adam update; on a batch of train.batchSize
         synthetic cases with --patches N patches of --feature-dim D each (all N go through the model unless
         --max-patches says otherwise), --genes G RNA values and --clinical-dim C clinical columns; after --warmup steps.
  cv     --folds-fold cross-validation on --cohort with the folds of --splits (mmsurv's splits.json, core/data/splits.ts).
         Per fold: fit preprocessing on the training fold (RNA scaler, tabular vocabularies, patch width); --epochs
         epochs of: order (shuffle, or class-balanced draws with replacement), batches of batchSize, at most
         train.maxPatches random patches per case per step (uniform subset, order kept), gradients averaged over
         gradAccumulation batches, learning-rate schedule; per epoch the validation fold is predicted (Harrell's C) and
         its loss computed in eval mode, both from one eval pass (as mmsurv's SurvivalModel.evaluate); best epoch kept (selection 'best',
         from minEpochs, early stopping); then the training fold is predicted once (mmsurv fits its Cox baseline on
         it) and the validation C-index of the selected weights reported. Not mirrored: mmsurv's per-epoch checkpoint
         files, its Kaplan-Meier calibration and reports (cheap next to training).
  infer  median time to predict one case with --patches N patches (eval mode, no autograd).
--threads T: torch.set_num_threads and OPENBLAS/OMP/MKL_NUM_THREADS (default 1). glibc malloc keeps freed memory
(`tune_malloc`; --no-malloc-tuning to leave it). Peak RSS is resource.getrusage(RUSAGE_SELF).ru_maxrss.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def _threads_from_argv(argv):
    for i, x in enumerate(argv):
        if x == '--threads' and i + 1 < len(argv):
            return argv[i + 1]
        if x.startswith('--threads='):
            return x.split('=', 1)[1]
    return '1'


# Debian's torch calls BLAS through libblas.so.3 (OpenBLAS pthreads here), which torch.set_num_threads does not
# limit: pin OpenBLAS / OpenMP threads before torch loads.
for _v in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ[_v] = _threads_from_argv(sys.argv)



def tune_malloc():
    """Keep freed memory in the process (glibc mallopt): each step's large activations otherwise come back from mmap as
    fresh pages, ~9000 page faults and +40-80% time per 4096-patch step here (tfjs-wasm's linear memory never returns
    pages, so this is the like-for-like setting; PyTorch's CPU tuning guide suggests jemalloc/tcmalloc for the same)."""
    import ctypes
    libc = ctypes.CDLL('libc.so.6')
    M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
    return all(libc.mallopt(k, v) == 1 for k, v in ((M_MMAP_THRESHOLD, 32 << 20), (M_TRIM_THRESHOLD, 1 << 36), (M_TOP_PAD, 1 << 30)))


MALLOC_TUNED = '--no-malloc-tuning' not in sys.argv and tune_malloc()

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cohort import load_patches, read_cohort  # noqa: E402
from load_mmsurv import ENCODER_INPUT  # noqa: E402
from mmsurv_models import SurvModel  # noqa: E402
from training import Trainer, run_fold  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
PRESETS = {
    'abmil': {'_base_': os.path.join(REPO, 'plugins/common/presets/abmil.json'), 'head': {'_delete_': True, 'type': 'cox'}},
    'chimera-bilinear': {'_base_': os.path.join(REPO, 'plugins/chimera-bilinear/preset.json')},
}


def resolve_config(model, path):
    if path:
        with open(path) as f:
            doc = json.load(f)
        if '_sources_' in doc:
            return doc
    with tempfile.TemporaryDirectory() as tmp:
        if not path:
            path = os.path.join(tmp, f'{model}.json')
            with open(path, 'w') as f:
                json.dump(PRESETS[model], f)
        p = subprocess.run(['node', os.path.join(REPO, 'dist/core/cli/bin.js'), 'validate', path, '--json', '-q'],
                           capture_output=True, text=True, cwd=REPO)
        doc = json.loads(p.stdout) if p.stdout.strip() else {}
        if not doc.get('ok'):
            raise SystemExit(f'mmsurv validate {path} failed: {doc.get("issues") or p.stderr[-2000:]}')
        return doc['resolved']


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_case(config, a, g):
    dims = {'patches': a.feature_dim, 'rna': a.genes, 'clinical': a.clinical_dim}
    rows = {'patches': a.patches}
    return {k: torch.randn(rows.get(ENCODER_INPUT[e['type']], 1), dims[ENCODER_INPUT[e['type']]], generator=g)
            for k, e in config['encoders'].items()}


def timed(fn, warmup, repeats):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1000)
    return {'median_ms': statistics.median(ts), 'min_ms': min(ts), 'max_ms': max(ts), 'repeats': repeats, 'warmup': warmup}


def mode_step(config, a):
    s = dict(config['train'])
    if a.max_patches != 'preset':
        s['maxPatches'] = None if a.max_patches == 'none' else int(a.max_patches)
    b = a.batch_size or s['batchSize']
    dims = {k: {'patches': a.feature_dim, 'rna': a.genes, 'clinical': a.clinical_dim}[ENCODER_INPUT[e['type']]]
            for k, e in config['encoders'].items()}
    tr = Trainer(config, dims, s)
    g = torch.Generator().manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    batch = [synthetic_case(config, a, g) for _ in range(b)]
    labels = [(float(i + 1), i % 2 == 0) for i in range(b)]  # distinct times, first case an event
    tr.model.train()

    def one():
        tr.backward([tr.train_inputs(x, rng) for x in batch], labels)
        tr.step(s['lr'])
    r = timed(one, a.warmup, a.repeats)
    per_case = min(a.patches, s['maxPatches'] or a.patches)
    return {**r, 'batch_size': b, 'patches': a.patches, 'patches_per_case_in_model': per_case,
            'degenerate_cox_batch': b < 2, 'parameters': sum(p.numel() for p in tr.params)}


def mode_infer(config, a):
    dims = {k: {'patches': a.feature_dim, 'rna': a.genes, 'clinical': a.clinical_dim}[ENCODER_INPUT[e['type']]]
            for k, e in config['encoders'].items()}
    model = SurvModel(config, dims).eval()
    x = synthetic_case(config, a, torch.Generator().manual_seed(a.seed))

    def one():
        with torch.no_grad():
            float(model([x])[0, 0])
    return {**timed(one, a.warmup, a.repeats), 'patches': a.patches}


def mode_cv(config, a):
    s = dict(config['train'])
    if a.epochs:
        s['epochs'] = a.epochs
    with open(a.splits) as f:
        splits = json.load(f)
    folds = a.folds or splits['folds']
    t0 = time.perf_counter()
    data = config.get('data', {})
    cases = read_cohort(a.cohort, data.get('manifest', 'cohort.json'), data.get('missingMarkers'))
    cache = {}
    for c in cases:
        load_patches(c, cache)
    by_id = {c['id']: c for c in cases}
    read_s = time.perf_counter() - t0
    results = []
    for k in range(folds):
        fa = splits['assignments'][k]
        results.append({'fold': k + 1, **run_fold(config, s, [by_id[i] for i in fa['train']], [by_id[i] for i in fa['val']],
                                                   cache, s['seed'] * 1000 + k)})
    cs = [r['c_index'] for r in results if r['c_index'] is not None]
    return {'total_s': time.perf_counter() - t0, 'read_s': read_s, 'train_s': sum(r['seconds'] for r in results),
            'epochs': s['epochs'], 'folds': folds, 'cases': len(cases), 'mean_c_index': float(np.mean(cs)) if cs else None,
            'per_fold': results if a.history else [{k: v for k, v in r.items() if k != 'history'} for r in results]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model', choices=sorted(PRESETS), default='abmil')
    ap.add_argument('--config', help='an mmsurv config (resolved with `mmsurv validate`) instead of --model')
    ap.add_argument('--mode', choices=['step', 'cv', 'infer'], required=True)
    ap.add_argument('--patches', type=int, default=4096)
    ap.add_argument('--feature-dim', type=int, default=1024)
    ap.add_argument('--genes', type=int, default=400)
    ap.add_argument('--clinical-dim', type=int, default=27)
    ap.add_argument('--batch-size', type=int, help='default: train.batchSize of the config')
    ap.add_argument('--max-patches', default='none', help="step mode: 'none' (all N patches), 'preset' (train.maxPatches) or a number")
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--repeats', type=int, default=15)
    ap.add_argument('--cohort')
    ap.add_argument('--splits')
    ap.add_argument('--epochs', type=int)
    ap.add_argument('--folds', type=int)
    ap.add_argument('--history', action='store_true', help='cv: per-epoch history in the output')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--no-malloc-tuning', action='store_true', help="leave glibc malloc's defaults (see tune_malloc)")
    a = ap.parse_args()
    if a.mode == 'cv' and not (a.cohort and a.splits):
        ap.error('--mode cv needs --cohort and --splits')
    torch.set_num_threads(a.threads)
    config = resolve_config(a.model, a.config)
    result = {'step': mode_step, 'cv': mode_cv, 'infer': mode_infer}[a.mode](config, a)
    shape = {} if a.mode == 'cv' else {'feature_dim': a.feature_dim, 'genes': a.genes, 'clinical_dim': a.clinical_dim}
    print(json.dumps({'mode': a.mode, 'model': a.model if not a.config else config.get('name'), **shape, **result, 'threads': torch.get_num_threads(), 'torch': torch.__version__,
                      'malloc_tuned': MALLOC_TUNED,
                      'peak_rss_mb': peak_rss_mb()}))


if __name__ == '__main__':
    main()

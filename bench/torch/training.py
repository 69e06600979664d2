"""The training loop of core/train/train-fold.ts (and sampling.ts) for the PyTorch mirror, used by train_bench.py.

- `Trainer`: model + optimiser (mmsurv_models.make_optimizer); `backward` = forward of a batch case by case, Cox loss,
  loss.item() (mmsurv reads every loss back), backward; `step` = zero gradients for variables without one (as mmsurv),
  learning rate, optimiser step. `train_inputs`: train.maxPatches then the ABMIL encoder's own maxPatches, each a
  uniform subset of rows in their original order (samplePatches / samplePatchRows).
- `fit_states`: the fitted preprocessing of a training fold (patch width, RNA scaler, tabular vocabularies), in the
  format of mmsurv's state.json, so load_mmsurv.case_inputs applies it.
- `run_fold`: one cross-validation fold as train-fold.ts runs it (see train_bench.py's header for the list).
Random numbers (epoch order, patch subsets, dropout, initial weights) come from numpy / torch, not mmsurv's streams.
"""
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cohort import fit_rna_scaler, fit_tabular, harrell_c, load_patches, tabular_width  # noqa: E402
from load_mmsurv import ENCODER_INPUT, case_inputs  # noqa: E402
from mmsurv_models import SurvModel, cox_loss, learning_rate, make_optimizer, zero_missing_grads  # noqa: E402


def sample_rows(x, k, rng):
    """core/train/sampling.ts samplePatches: k distinct rows, original order kept."""
    if x is None or k is None or x.shape[0] <= k:
        return x
    return x[torch.from_numpy(np.sort(rng.choice(x.shape[0], k, replace=False)))]


class Trainer:
    """One optimiser step at a time, as train-fold.ts does it."""

    def __init__(self, config, dims, settings):
        self.config, self.s = config, settings
        self.model = SurvModel(config, dims)
        self.params = [p for _, _, p in self.model.mmsurv_params()]
        self.opt = make_optimizer(settings['optimizer'], self.params, settings['lr'], settings['weightDecay'])
        self.ties = config['head'].get('ties', 'breslow')
        self.enc_cap = {k: e.get('maxPatches') for k, e in config['encoders'].items() if e['type'] == 'abmil'}

    def train_inputs(self, inputs, rng):
        out = dict(inputs)
        for k in self.enc_cap:  # train.maxPatches, then the encoder's own maxPatches (both null-able)
            out[k] = sample_rows(sample_rows(out[k], self.s.get('maxPatches'), rng), self.enc_cap[k], rng)
        return out

    def backward(self, batch, labels, scale=1.0):
        risk = self.model(batch)
        loss = cox_loss(risk, [t for t, _ in labels], [e for _, e in labels], self.ties)
        value = loss.item()
        if not np.isfinite(value):
            raise SystemExit(f'training loss became {value}')
        (loss * scale).backward() if scale != 1.0 else loss.backward()
        return value

    def step(self, lr):
        zero_missing_grads(self.params)
        for g in self.opt.param_groups:
            g['lr'] = lr
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)


def fit_states(config, train, cache):
    states, dims = {}, {}
    for k, e in config['encoders'].items():
        kind = ENCODER_INPUT[e['type']]
        if kind == 'patches':
            states[k] = {'inDim': next(load_patches(c, cache).shape[1] for c in train if c['wsi'])}
            dims[k] = states[k]['inDim']
        elif kind == 'rna':
            states[k] = fit_rna_scaler(train, e.get('scale', 'standard'))
            dims[k] = len(states[k]['geneOrder'])
        else:
            states[k] = fit_tabular(train, e)
            dims[k] = tabular_width(states[k])
    return states, dims


def predict(model, inputs):
    model.eval()
    with torch.no_grad():
        return [float(model([x])[0, 0]) for x in inputs]


def run_fold(config, s, train, val, cache, seed):
    t0 = time.perf_counter()
    states, dims = fit_states(config, train, cache)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    tr = Trainer(config, dims, s)
    x_train = [case_inputs(c, config, states, cache) for c in train]
    x_val = [case_inputs(c, config, states, cache) for c in val]
    y_train, y_val = [c['label'] for c in train], [c['label'] for c in val]
    n, bs, acc_n = len(train), s['batchSize'], s['gradAccumulation']
    batches = -(-n // bs)
    steps_per_epoch = -(-batches // acc_n)
    total, warmup = steps_per_epoch * s['epochs'], round(s['warmupEpochs'] * steps_per_epoch)
    ev = np.array([e for _, e in y_train])
    best, best_score, best_epoch, since, step, history = None, None, None, 0, 0, []
    es = s.get('earlyStopping')
    for epoch in range(1, s['epochs'] + 1):
        if s['sampling'] == 'balanced' and 0 < ev.sum() < n:
            pools = [np.flatnonzero(ev), np.flatnonzero(~ev)]
            order = [pools[0 if rng.random() < 0.5 else 1] for _ in range(n)]
            order = [p[rng.integers(len(p))] for p in order]
        else:
            order = list(rng.permutation(n))
        tr.model.train()
        acc, losses = 0, []
        for bi in range(batches):
            idx = order[bi * bs:(bi + 1) * bs]
            losses.append(tr.backward([tr.train_inputs(x_train[i], rng) for i in idx], [y_train[i] for i in idx]))
            acc += 1
            if acc == acc_n or bi == batches - 1:
                if acc > 1:
                    for p in tr.params:
                        if p.grad is not None:
                            p.grad /= acc
                tr.step(learning_rate(s['schedule'], s['lr'], step, total, warmup))
                step, acc = step + 1, 0
        # validation in one eval pass: the risks and the loss come from the same outputs (as SurvivalModel.evaluate)
        tr.model.eval()
        with torch.no_grad():
            out = tr.model(x_val)
            vl = float(cox_loss(out, [t for t, _ in y_val], [e for _, e in y_val], tr.ties))
        risks = [float(r) for r in out[:, 0]]
        c = harrell_c([t for t, _ in y_val], [e for _, e in y_val], risks)
        history.append({'epoch': epoch, 'train_loss': float(np.mean(losses)), 'val_loss': vl, 'val_c': c})
        score = c if (es or {}).get('metric', 'c-index') == 'c-index' else -vl
        if epoch >= s['minEpochs']:
            if score is not None and (best_score is None or score > best_score):
                best_score, best_epoch, since = score, epoch, 0
                best = {k: v.clone() for k, v in tr.model.state_dict().items()}
            else:
                since += 1
            if es and since >= es['patience']:
                break
    if s['selection'] == 'best' and best is not None:
        tr.model.load_state_dict(best)
    predict(tr.model, x_train)  # mmsurv fits the Cox baseline on the training-fold risks
    risks = predict(tr.model, x_val)
    c = harrell_c([t for t, _ in y_val], [e for _, e in y_val], risks)
    return {'n_train': n, 'n_val': len(val), 'epochs': len(history), 'best_epoch': best_epoch, 'c_index': c,
            'seconds': time.perf_counter() - t0, 'history': history}

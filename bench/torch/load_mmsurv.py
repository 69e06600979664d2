"""Load a trained mmsurv fold model into the PyTorch mirror (mmsurv_models.py) and compute the risk of every case.

Mirrors (TypeScript):
  core/train/load-run.ts        a run: config.resolved.json, fold-K/model/{state.json, weights.json, weights.bin}
  core/model/tensor-bundle.ts   weights.json {format 'mmsurv-tensors', bytes, sha256, entries [{name, shape, offset,
                                length}]} over weights.bin (little-endian float32, back to back); sha256 checked
  core/model/survival-model.ts  ModelState {version 1, encoders: {key: state}, encoderDims, fusionOutDim, head};
                                variables named encoders.<k>/<i>, fusion/<i>, head/<i> in that order
  abmil state {inDim}; mlp state = the RNA scaler (core/data/rna-scaler.ts); tabular state {fields, missingValues,
  missingCategory}. Dense kernels are [in, out]: nn.Linear.weight gets the transpose.
  Prediction is eval mode (no dropout, every patch), one case at a time, as SurvivalModel.predict.

Usage:
  /usr/bin/python3 bench/torch/load_mmsurv.py --run RUN --fold 1 --cohort COHORT [--float64] [--threads 1]
prints JSON {"fold": 1, "risks": {"case-0001": -0.17, ...}}.
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cohort import load_patches, read_cohort, scale_rna, tabular_features, tabular_width  # noqa: E402
from mmsurv_models import SurvModel  # noqa: E402

# What each encoder type reads from a case.
ENCODER_INPUT = {'abmil': 'patches', 'mlp': 'rna', 'tabular': 'clinical'}


def read_json(path):
    with open(path) as f:
        return json.load(f)


def read_tensor_bundle(base):
    manifest = read_json(base + '.json')
    if manifest.get('format') != 'mmsurv-tensors':
        raise ValueError(f'{base}.json: expected format mmsurv-tensors')
    with open(base + '.bin', 'rb') as f:
        buf = f.read()
    if len(buf) != manifest['bytes'] or hashlib.sha256(buf).hexdigest() != manifest['sha256']:
        raise ValueError(f'{base}.bin: size or sha256 does not match {base}.json')
    all_ = np.frombuffer(buf, dtype='<f4')
    return [(e['name'], e['shape'], all_[e['offset']:e['offset'] + e['length']].reshape(e['shape'])) for e in manifest['entries']]


def input_dims(config, state):
    """modality -> input width from the fitted encoder states."""
    dims = {}
    for k, enc in config['encoders'].items():
        s = state['encoders'][k]
        kind = ENCODER_INPUT.get(enc['type'])
        if kind == 'patches':
            dims[k] = s['inDim']
        elif kind == 'rna':
            dims[k] = len(s['geneOrder'])
        elif kind == 'clinical':
            dims[k] = tabular_width(s)
        else:
            raise ValueError(f"encoders.{k}: type {enc['type']!r} is not mirrored")
    return dims


def set_mmsurv_weights(model, entries, where='weights'):
    params = model.mmsurv_params()
    if len(params) != len(entries):
        raise ValueError(f'{where}: the PyTorch mirror has {len(params)} variables, the file {len(entries)}')
    with torch.no_grad():
        for (name, kind, p), (ename, shape, data) in zip(params, entries):
            value = torch.from_numpy(np.array(data, dtype=np.float32))
            if kind == 'kernel':
                value = value.t()
            if name != ename or tuple(value.shape) != tuple(p.shape):
                raise ValueError(f'{where}: variable {name} {tuple(p.shape)} (as {kind}) vs {ename} {shape} in the file')
            p.copy_(value)


def get_mmsurv_weights(model):
    """The model's weights as mmsurv TensorEntry tuples (name, shape, float32 data), kernels [in, out]."""
    out = []
    for name, kind, p in model.mmsurv_params():
        x = p.detach().t() if kind == 'kernel' else p.detach()
        out.append((name, list(x.shape), x.contiguous().numpy().astype(np.float32)))
    return out


def load_fold(run_dir, fold):
    """(model in eval mode, resolved config, model state) of fold `fold` (1-based)."""
    config = read_json(os.path.join(run_dir, 'config.resolved.json'))
    mdir = os.path.join(run_dir, f'fold-{fold}', 'model')
    state = read_json(os.path.join(mdir, 'state.json'))
    if state.get('version') != 1:
        raise ValueError(f'{mdir}/state.json: expected version 1')
    model = SurvModel(config, input_dims(config, state))
    for k, e in model.encoders.items():
        if e.out_dim != state['encoderDims'][k]:
            raise ValueError(f'encoders.{k}: width {e.out_dim} here, {state["encoderDims"][k]} in the saved model')
    if model.fusion.out_dim != state['fusionOutDim']:
        raise ValueError(f'fusion width {model.fusion.out_dim} here, {state["fusionOutDim"]} in the saved model')
    set_mmsurv_weights(model, read_tensor_bundle(os.path.join(mdir, 'weights')), f'{mdir}/weights')
    return model.eval(), config, state


def case_inputs(case, config, encoder_states, cache=None):
    """modality -> float32 tensor for the model (None when the case lacks it), with the fitted preprocessing."""
    out = {}
    for k, enc in config['encoders'].items():
        kind = ENCODER_INPUT[enc['type']]
        if kind == 'patches':
            x = load_patches(case, cache)
            out[k] = None if x is None else torch.from_numpy(x)
        elif kind == 'rna':
            out[k] = None if case['rna'] is None else torch.from_numpy(scale_rna(case['rna'], encoder_states[k])).view(1, -1)
        else:
            out[k] = None if case['clinical'] is None else torch.from_numpy(tabular_features(case['clinical'], encoder_states[k])).view(1, -1)
    return out


def predict_risks(model, inputs_list, dtype=torch.float32):
    model.eval()
    risks = []
    with torch.no_grad():
        for inputs in inputs_list:
            x = {k: (None if v is None else v.to(dtype)) for k, v in inputs.items()}
            risks.append(float(model([x])[0, 0]))
    return risks


def read_run_cohort(config, cohort_dir):
    data = config.get('data', {})
    if data.get('format', 'manifest') != 'manifest':
        raise ValueError(f"the run reads data format {data.get('format')!r}; only 'manifest' cohorts are read here")
    return read_cohort(cohort_dir, data.get('manifest', 'cohort.json'), data.get('missingMarkers'))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--run', required=True)
    ap.add_argument('--fold', type=int, default=1)
    ap.add_argument('--cohort', required=True)
    ap.add_argument('--float64', action='store_true', help='compute in float64 (mmsurv computes in float32)')
    ap.add_argument('--threads', type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model, config, state = load_fold(a.run, a.fold)
    dtype = torch.float64 if a.float64 else torch.float32
    model = model.to(dtype)
    cases = read_run_cohort(config, a.cohort)
    risks = predict_risks(model, [case_inputs(c, config, state['encoders']) for c in cases], dtype)
    print(json.dumps({'fold': a.fold, 'risks': {c['id']: r for c, r in zip(cases, risks)}}))


if __name__ == '__main__':
    main()

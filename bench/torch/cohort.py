"""Cohort reading and fitted preprocessing, as mmsurv does it (numpy only; used by the PyTorch reference).

Mirrors (TypeScript):
  core/data/readers/manifest.ts   the `manifest` cohort: <root>/cohort.json with cases [{id, label, wsi, rna, clinical}],
                                  optional rnaMatrix / clinicalTable (CSV/TSV); paths relative to the root
  core/data/clinical.ts           missing markers -> None; booleans -> 'true'/'false'; table cells that look numeric -> numbers
  core/data/rna.ts                per-case {gene: value} JSON (values stored as float32, null -> NaN); matrices
  core/data/patch-bag.ts, io/*    CLAM/TRIDENT HDF5 `features` [N, D] (or [1, N, D]) or .npy; slides concatenated in order
  core/data/rna-scaler.ts         fitRnaScaler / scaleRna: sorted gene union, mean imputation, standard / minmax, float64 -> float32
  plugins/common/tabular-encoder.ts  fit / features: sorted keys, numeric z-score (population sd), one-hot of the sorted
                                  stringified training categories, optional missing columns
  core/survival/concordance.ts    Harrell's C (R survival::concordance(reverse=TRUE) conventions), O(n^2) here

Not mirrored: the chimera-task3 layouts, coordinates (unused by the models), texts, knowledge.
"""
import csv
import json
import math
import os
import re

import numpy as np

DEFAULT_MISSING_MARKERS = [-1, '-1', '', 'NA', 'NaN', 'nan', None]
_NUMERIC_CELL = re.compile(r'^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$')


def js_str(v):
    """String(v) as JavaScript writes it (numbers: shortest round-trip digits, JS exponent rules)."""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return 'true' if v else 'false'
    x = float(v)
    if math.isnan(x):
        return 'NaN'
    if math.isinf(x):
        return 'Infinity' if x > 0 else '-Infinity'
    if x == 0:
        return '0'
    sign = '-' if x < 0 else ''
    mant, exp = np.format_float_scientific(abs(x), unique=True, trim='-').split('e')
    digits = mant.replace('.', '')
    n = int(exp) + 1
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + '0' * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + '.' + digits[n:]
    if -6 < n <= 0:
        return sign + '0.' + '0' * (-n) + digits
    e = n - 1
    return sign + digits[0] + ('.' + digits[1:] if k > 1 else '') + 'e' + ('+' if e >= 0 else '-') + str(abs(e))


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_marker(v, markers):
    for m in markers:
        if m is None and v is None:
            return True
        if m is not None and v is not None and type(m) is str and type(v) is str and m == v:
            return True
        if _is_number(m) and _is_number(v) and m == v:
            return True
    return False


def normalise_clinical(raw, markers):
    out = {}
    for k, v in raw.items():
        if v is None or _is_marker(v, markers):
            out[k] = None
        elif isinstance(v, bool):
            out[k] = 'true' if v else 'false'
        elif _is_number(v):
            out[k] = float(v) if math.isfinite(v) else None
        elif isinstance(v, str):
            out[k] = v
        else:
            raise ValueError(f'clinical key {k!r}: expected a string, number or null, found {v!r}')
    return out


def read_delimited(path):
    delim = '\t' if os.path.splitext(path)[1].lower() in ('.tsv', '.tab', '.txt') else ','
    with open(path, newline='', encoding='utf-8-sig') as f:
        rows = [r for r in csv.reader(f, delimiter=delim) if not (len(r) == 1 and r[0] == '') and r]
    return rows[0], rows[1:]


def _read_rna_json(path):
    with open(path) as f:
        obj = json.load(f)
    genes = list(obj.keys())
    values = np.array([np.nan if obj[g] is None else obj[g] for g in genes], dtype=np.float32)
    return genes, values


def _read_rna_matrix(path):
    header, rows = read_delimited(path)
    cell = lambda s: np.nan if s.strip() in ('', 'NA', 'NaN', 'nan') else float(s)
    out = {}
    if header[0].strip().lower() in ('gene', 'gene_id', 'gene_symbol', 'symbol', 'hugo_symbol'):
        genes = [r[0].strip() for r in rows]
        for c, cid in enumerate(header[1:], start=1):
            out[cid.strip()] = (genes, np.array([cell(r[c]) for r in rows], dtype=np.float32))
    else:
        genes = [g.strip() for g in header[1:]]
        for r in rows:
            out[r[0].strip()] = (genes, np.array([cell(x) for x in r[1:]], dtype=np.float32))
    return out


def _read_clinical_table(path, markers):
    header, rows = read_delimited(path)
    lower = [h.strip().lower() for h in header]
    id_col = next(lower.index(c) for c in ('id', 'case_id', 'patient_id') if c in lower)
    out = {}
    for r in rows:
        rec = {}
        for c, h in enumerate(header):
            if c == id_col:
                continue
            s = r[c]
            if _is_marker(s, markers) or _is_marker(s.strip(), markers):
                rec[h.strip()] = None
            elif _NUMERIC_CELL.match(s.strip()):
                x = float(s.strip())
                rec[h.strip()] = None if _is_marker(x, markers) else x
            else:
                rec[h.strip()] = s
        out[r[id_col].strip()] = rec
    return out


def read_cohort(root, manifest='cohort.json', missing_markers=None):
    """The cases of a manifest cohort: [{id, label: (time, event) | None, wsi: [paths], rna: (genes, float32) | None,
    clinical: dict | None}], in manifest order."""
    markers = DEFAULT_MISSING_MARKERS if missing_markers is None else missing_markers
    root = os.path.abspath(root)
    with open(os.path.join(root, manifest)) as f:
        doc = json.load(f)
    if doc.get('format') != 'mmsurv-manifest':
        raise ValueError(f'{root}/{manifest}: expected format "mmsurv-manifest" (only the manifest layout is read here)')
    at = lambda p: os.path.join(root, p)
    cases = []
    for raw in doc['cases']:
        c = {'id': raw['id'], 'label': None, 'wsi': [], 'rna': None, 'clinical': None}
        if 'label' in raw:
            c['label'] = (float(raw['label']['time']), raw['label']['event'] in (True, 1))
        for e in raw.get('wsi', []):
            c['wsi'].append(at(e if isinstance(e, str) else e['features']))
        if 'rna' in raw:
            c['rna'] = _read_rna_json(at(raw['rna']))
        if 'clinical' in raw:
            cl = raw['clinical']
            if isinstance(cl, str):
                with open(at(cl)) as f:
                    cl = json.load(f)
            c['clinical'] = normalise_clinical(cl, markers)
        cases.append(c)
    by_id = {c['id']: c for c in cases}
    if 'rnaMatrix' in doc:
        for cid, prof in _read_rna_matrix(at(doc['rnaMatrix'])).items():
            if cid in by_id:
                by_id[cid]['rna'] = prof
    if 'clinicalTable' in doc:
        for cid, rec in _read_clinical_table(at(doc['clinicalTable']), markers).items():
            if cid in by_id:
                by_id[cid]['clinical'] = rec
    return cases


def load_patches(case, cache=None):
    """All slides' patch features of a case as one float32 [n, D] array (slide order), or None without patches."""
    if cache is not None and case['id'] in cache:
        return cache[case['id']]
    parts = []
    for path in case['wsi']:
        if path.lower().endswith('.npy'):
            x = np.load(path)
        else:
            import h5py
            with h5py.File(path, 'r') as f:
                x = f['features'][()]
        x = x.reshape(x.shape[-2], x.shape[-1]).astype(np.float32, copy=False)
        if x.shape[0] > 0:
            parts.append(x)
    out = None if not parts else parts[0] if len(parts) == 1 else np.concatenate(parts, 0)
    if cache is not None:
        cache[case['id']] = out
    return out


# ---- RNA scaler (core/data/rna-scaler.ts) -------------------------------------------------------------------------

def _aligned(profile, gene_order):
    genes, values = profile
    index = {g: i for i, g in enumerate(genes)}
    return np.array([values[index[g]] if g in index else np.nan for g in gene_order], dtype=np.float64)


def fit_rna_scaler(train, scale):
    profiles = [c['rna'] for c in train if c['rna'] is not None]
    gene_order = sorted({g for p in profiles for g in p[0]})
    rows = np.stack([_aligned(p, gene_order) for p in profiles])
    ok = ~np.isnan(rows)
    count = ok.sum(0)
    fill = np.where(count > 0, np.where(ok, rows, 0).sum(0) / np.maximum(count, 1), 0.0)
    state = {'scale': scale, 'geneOrder': gene_order, 'fill': fill.tolist()}
    if scale == 'none':
        return state
    if scale == 'standard':
        sd = np.sqrt(np.where(ok, (rows - fill) ** 2, 0).sum(0) / np.maximum(count, 1))
        mul = 1.0 / np.where(sd > 0, sd, 1.0)
        add = -fill * mul
    else:
        lo = np.where(count > 0, np.nanmin(np.where(ok, rows, np.inf), 0), 0.0)
        hi = np.nanmax(np.where(ok, rows, -np.inf), 0)
        rng = np.where((count > 0) & (hi > lo), hi - lo, 1.0)
        mul = 2.0 / rng
        add = -1.0 - lo * mul
    state.update(mul=mul.tolist(), add=add.tolist())
    return state


def scale_rna(profile, state):
    x = _aligned(profile, state['geneOrder'])
    x = np.where(np.isnan(x), np.asarray(state['fill'], dtype=np.float64), x)
    if 'mul' in state:
        x = x * np.asarray(state['mul']) + np.asarray(state['add'])
    return x.astype(np.float32)


# ---- tabular encoder (plugins/common/tabular-encoder.ts) ----------------------------------------------------------

def _tab_missing(v, markers):
    return v is None or (isinstance(v, float) and math.isnan(v)) or js_str(v) in markers


def fit_tabular(train, opts):
    records = [c['clinical'] for c in train if c['clinical'] is not None]
    markers = [js_str(m) for m in opts.get('missingValues', [-1])]
    keys = opts.get('fields') or sorted({k for r in records for k in r})
    fields = []
    for key in keys:
        present = [r[key] for r in records if key in r and not _tab_missing(r[key], markers)]
        missing = len(records) - len(present)
        if all(_is_number(v) for v in present):
            mean = sum(present) / len(present) if present else 0.0
            sd = math.sqrt(sum((v - mean) ** 2 for v in present) / len(present)) if present else 0.0
            fields.append({'key': key, 'kind': 'numeric', 'mean': mean, 'sd': sd if sd > 0 else 1.0,
                           'indicator': bool(opts.get('missingIndicators', True)) and missing > 0})
        else:
            fields.append({'key': key, 'kind': 'categorical', 'categories': sorted({js_str(v) for v in present})})
    return {'fields': fields, 'missingValues': markers, 'missingCategory': bool(opts.get('missingCategory', True))}


def tabular_width(state):
    mc = 1 if state['missingCategory'] else 0
    return sum((2 if f['indicator'] else 1) if f['kind'] == 'numeric' else len(f['categories']) + mc for f in state['fields'])


def tabular_features(record, state):
    out = np.zeros(tabular_width(state), dtype=np.float32)
    col = 0
    for f in state['fields']:
        raw = record.get(f['key'])
        missing = f['key'] not in record or _tab_missing(raw, state['missingValues'])
        if f['kind'] == 'numeric':
            x = math.nan
            if not missing:
                if _is_number(raw):
                    x = float(raw)
                else:
                    try:
                        x = float(str(raw).strip()) if '_' not in str(raw) else math.nan
                    except ValueError:
                        x = math.nan
                x = x if math.isfinite(x) else math.nan
            out[col] = 0.0 if math.isnan(x) else (x - f['mean']) / f['sd']
            col += 1
            if f['indicator']:
                out[col] = 1.0 if math.isnan(x) else 0.0
                col += 1
        else:
            cats = f['categories']
            k = -1 if missing else (cats.index(js_str(raw)) if js_str(raw) in cats else -1)
            if k >= 0:
                out[col + k] = 1.0
            elif state['missingCategory']:
                out[col + len(cats)] = 1.0
            col += len(cats) + (1 if state['missingCategory'] else 0)
    return out


def harrell_c(time, event, risk):
    """Harrell's C: pair (i, j) comparable when i had the event and t_i < t_j, or t_i == t_j and j censored; risk ties
    count 1/2. None without a comparable pair."""
    t, e, r = np.asarray(time, float), np.asarray(event, bool), np.asarray(risk, float)
    comp = e[:, None] & ((t[:, None] < t[None, :]) | ((t[:, None] == t[None, :]) & ~e[None, :]))
    n = comp.sum()
    if n == 0:
        return None
    conc = (comp & (r[:, None] > r[None, :])).sum() + 0.5 * (comp & (r[:, None] == r[None, :])).sum()
    return float(conc / n)

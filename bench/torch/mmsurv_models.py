"""PyTorch modules that compute what mmsurv computes, for the benchmark against PyTorch (issue 8).

Built from an mmsurv *resolved* config (`mmsurv validate CONFIG --json` -> resolved, or a run's config.resolved.json)
plus the widths the fitted preprocessing gives. Supported components and the TypeScript they mirror:
  encoders  abmil    plugins/common/abmil-encoder.ts   h = Dropout(ReLU(fc x)); a = w^T(tanh(V h) * sigmoid(U h)) (w: no
                                                       bias); alpha = softmax(a); z = alpha @ h  -> [1, dim]
            mlp      plugins/common/mlp-encoder.ts, rna-stack-encoder.ts   [Linear -> ReLU -> Dropout] per dims entry
                     (ReLU + Dropout after the last layer too)  -> [1, dims[-1]]
            tabular  plugins/common/tabular-encoder.ts  the raw vector (outDim null) or ReLU(Linear(F -> outDim))
  fusion    concat   plugins/common/concat-fusion.ts  tokens mean-pooled, concatenated in sorted modality order; a
                     missing modality gives zeros
            chimera.lowrank-bilinear  plugins/chimera-bilinear/lowrank-bilinear-fusion.ts  per pair
                     out(f1(x_a) * f2(x_b)) (all biased; dropout on the product, default 0), concatenated in pair order;
                     a pair with a missing modality gives zeros
  head      cox      plugins/common/cox-head.ts  [ReLU(Linear hidden)] then Linear(-> 1, no bias) = risk
  loss      core/survival/cox-loss.ts  negative partial log-likelihood (breslow or efron), 'mean' = divided by the number
            of events, the same masked-matrix formulation; a batch of < 2 cases or without event gives sum(r) * 0
  model     core/model/survival-model.ts  encoders in sorted key order, one case at a time, z's concatenated, one head
  init      core/model/dense.ts (+ gated-attention-pool.ts)  every kernel Glorot (Xavier) normal, untruncated, std
            sqrt(2 / (in + out)) (= nn.init.xavier_normal_); biases zero
  optimiser core/train/optimizer.ts  adam / radam / sgd: L2 weight decay (g += wd * w, on every variable, biases too);
            adamw: decoupled w *= 1 - lr * wd; betas 0.9 / 0.999, eps 1e-8 added to sqrt(v_hat): exactly torch.optim's
            Adam / AdamW / SGD (no momentum) -> `make_optimizer`. RAdam differs slightly: torch 1.13 divides by
            sqrt(v) + eps and multiplies by sqrt(1 - b2^t), mmsurv divides by sqrt(v / (1 - b2^t)) + eps
  schedule  core/train/optimizer.ts learningRate (constant or cosine to 0 after a linear warm-up) -> `learning_rate`

Where the two necessarily (or deliberately) differ:
  * Random numbers: mmsurv draws initial kernels, dropout masks, epoch order and patch subsets from its own
    xoshiro128** streams (core/services/random.ts, forked per layer / epoch); here torch's and numpy's generators.
    Same distributions, different numbers: trained weights differ, agreement is checked by loading mmsurv's weights.
  * nn.Linear stores weight [out, in]; mmsurv's Dense kernel is [in, out] (y = x @ kernel + b): loading transposes.
  * float32 summation order (wasm/XNNPACK-free tfjs kernels vs MKL/oneDNN): risks agree to ~1e-6 relative, not bitwise.
  * Variables without a gradient in a step: mmsurv gives them a zero gradient, so Adam still moves them (momentum,
    weight decay); torch.optim skips parameters whose .grad is None. `zero_missing_grads` restores mmsurv's behaviour.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def linear(i, o, bias=True):
    layer = nn.Linear(i, o, bias=bias)
    nn.init.xavier_normal_(layer.weight)
    if bias:
        nn.init.zeros_(layer.bias)
    return layer


def _params(*layers):
    """mmsurv variable order of a list of layers: kernel, bias per layer."""
    out = []
    for l in layers:
        out.append(('kernel', l.weight))
        if l.bias is not None:
            out.append(('bias', l.bias))
    return out


class Abmil(nn.Module):
    def __init__(self, in_dim, opts):
        super().__init__()
        dim = opts['dim']
        att = opts.get('attentionDim') or max(1, round(dim / 2))
        self.rate = opts.get('dropout', 0.25)
        self.fc, self.att_v, self.att_u = linear(in_dim, dim), linear(dim, att), linear(dim, att)
        self.att_w = linear(att, 1, bias=False)
        self.out_dim = dim

    def forward(self, x):
        h = F.dropout(F.relu(self.fc(x)), self.rate, self.training)
        a = self.att_w(torch.tanh(self.att_v(h)) * torch.sigmoid(self.att_u(h))).view(1, -1)
        return torch.softmax(a, dim=1) @ h

    def mmsurv_params(self):
        return _params(self.fc, self.att_v, self.att_u, self.att_w)


class RnaMlp(nn.Module):
    def __init__(self, in_dim, opts):
        super().__init__()
        dims = opts.get('dims', [256, 256])
        self.rate = opts.get('dropout', 0.25)
        self.layers = nn.ModuleList(linear(i, o) for i, o in zip([in_dim] + dims[:-1], dims))
        self.out_dim = dims[-1]

    def forward(self, x):
        for l in self.layers:
            x = F.dropout(F.relu(l(x)), self.rate, self.training)
        return x

    def mmsurv_params(self):
        return _params(*self.layers)


class Tabular(nn.Module):
    def __init__(self, in_dim, opts):
        super().__init__()
        out = opts.get('outDim')
        self.dense = linear(in_dim, out) if out is not None else None
        self.out_dim = out if out is not None else in_dim

    def forward(self, x):
        return F.relu(self.dense(x)) if self.dense is not None else x

    def mmsurv_params(self):
        return _params(self.dense) if self.dense is not None else []


ENCODERS = {'abmil': Abmil, 'mlp': RnaMlp, 'tabular': Tabular}


class ConcatFusion(nn.Module):
    def __init__(self, dims, opts):
        super().__init__()
        self.order = sorted(dims.items())  # JS localeCompare; plain sort for the usual lower-case modality names
        self.pool = opts.get('pool', 'mean')
        self.out_dim = sum(d for _, d in self.order)

    def forward(self, tokens):
        parts, ref = [], next(iter(tokens.values()))
        for m, d in self.order:
            t = tokens.get(m)
            if t is None:
                parts.append(ref.new_zeros(1, d))
            else:
                parts.append(t.amax(0, keepdim=True) if self.pool == 'max' else t.mean(0, keepdim=True))
        return torch.cat(parts, 1)

    def mmsurv_params(self):
        return []


class LowRankBilinearFusion(nn.Module):
    DEFAULT_PAIRS = [{'a': 'wsi', 'b': 'rna', 'out': 64}, {'a': 'wsi', 'b': 'clinical', 'out': 32},
                     {'a': 'rna', 'b': 'clinical', 'out': 32}]

    def __init__(self, dims, opts):
        super().__init__()
        self.pairs = opts.get('pairs') or self.DEFAULT_PAIRS
        rank = opts.get('rank', 64)
        self.rate = opts.get('dropout', 0)
        self.f1 = nn.ModuleList(linear(dims[p['a']], rank) for p in self.pairs)
        self.f2 = nn.ModuleList(linear(dims[p['b']], rank) for p in self.pairs)
        self.out = nn.ModuleList(linear(rank, p['out']) for p in self.pairs)
        self.out_dim = sum(p['out'] for p in self.pairs)

    def forward(self, tokens):
        pool = lambda t: t if t.shape[0] == 1 else t.mean(0, keepdim=True)
        parts, ref = [], next(iter(tokens.values()))
        for p, f1, f2, out in zip(self.pairs, self.f1, self.f2, self.out):
            if tokens.get(p['a']) is None or tokens.get(p['b']) is None:
                parts.append(ref.new_zeros(1, p['out']))
                continue
            inter = f1(pool(tokens[p['a']])) * f2(pool(tokens[p['b']]))
            if self.rate > 0:
                inter = F.dropout(inter, self.rate, self.training)
            parts.append(out(inter))
        return torch.cat(parts, 1)

    def mmsurv_params(self):
        return [x for i in range(len(self.pairs)) for x in _params(self.f1[i], self.f2[i], self.out[i])]


FUSIONS = {'concat': ConcatFusion, 'chimera.lowrank-bilinear': LowRankBilinearFusion}


class CoxHead(nn.Module):
    def __init__(self, in_dim, opts):
        super().__init__()
        hidden = opts.get('hidden')
        self.ties = opts.get('ties', 'breslow')
        self.hidden = linear(in_dim, hidden) if hidden is not None else None
        self.risk = linear(hidden if hidden is not None else in_dim, 1, bias=False)

    def forward(self, z):
        return self.risk(F.relu(self.hidden(z)) if self.hidden is not None else z)

    def mmsurv_params(self):
        return _params(*([self.hidden] if self.hidden is not None else []), self.risk)


class SurvModel(nn.Module):
    """encoders (sorted by modality) + fusion + Cox head. `input_dims`: modality -> input width (patch feature width,
    number of genes, number of clinical columns)."""

    def __init__(self, config, input_dims):
        super().__init__()
        enc = config['encoders']
        self.keys = sorted(enc)
        for k in self.keys:
            if enc[k]['type'] not in ENCODERS:
                raise ValueError(f"encoders.{k}: type {enc[k]['type']!r} has no PyTorch mirror here ({', '.join(ENCODERS)})")
        self.encoders = nn.ModuleDict({k: ENCODERS[enc[k]['type']](input_dims[k], enc[k]) for k in self.keys})
        fusion = config['fusion']
        if fusion['type'] not in FUSIONS:
            raise ValueError(f"fusion type {fusion['type']!r} has no PyTorch mirror here ({', '.join(FUSIONS)})")
        self.fusion = FUSIONS[fusion['type']]({k: e.out_dim for k, e in self.encoders.items()}, fusion)
        if config['head']['type'] != 'cox':
            raise ValueError(f"head type {config['head']['type']!r}: only 'cox' is mirrored here")
        self.head = CoxHead(self.fusion.out_dim, config['head'])

    def fuse(self, inputs):
        """inputs: modality -> float32 tensor ([n, D] patches, [1, G] RNA, [1, F] clinical) or None -> z [1, d]."""
        tokens = {k: self.encoders[k](inputs[k]) for k in self.keys if inputs.get(k) is not None}
        if not tokens:
            raise ValueError('case has none of the model modalities')
        return self.fusion(tokens)

    def forward(self, batch):
        return self.head(torch.cat([self.fuse(x) for x in batch], 0))

    def mmsurv_params(self):
        """(name, kind, parameter) in mmsurv's variable order: encoders.<k>/<i>, fusion/<i>, head/<i>."""
        out = []
        for k in self.keys:
            out += [(f'encoders.{k}/{i}', kind, p) for i, (kind, p) in enumerate(self.encoders[k].mmsurv_params())]
        out += [(f'fusion/{i}', kind, p) for i, (kind, p) in enumerate(self.fusion.mmsurv_params())]
        out += [(f'head/{i}', kind, p) for i, (kind, p) in enumerate(self.head.mmsurv_params())]
        return out


def cox_loss(risk, time, event, ties='breslow'):
    """core/survival/cox-loss.ts coxPartialLikelihoodLoss, reduction 'mean'. risk [b, 1]; time, event: lists."""
    b = len(time)
    events = [i for i in range(b) if event[i]]
    if b < 2 or not events:
        return risk.sum() * 0
    groups = {}
    for i in events:
        groups.setdefault(time[i], []).append(i)
    times = sorted(groups)
    g_n, max_tied = len(times), max(len(v) for v in groups.values())
    t = torch.tensor(time, dtype=torch.float64)
    offset = torch.where(t[None, :] >= torch.tensor(times, dtype=torch.float64)[:, None], 0.0, -1e30).float()
    in_d = torch.zeros(g_n, b)
    frac = torch.zeros(g_n, max_tied)
    used = torch.zeros(g_n, max_tied)
    d_count = torch.zeros(g_n)
    for g, tg in enumerate(times):
        d = groups[tg]
        in_d[g, d] = 1
        d_count[g] = len(d)
        used[g, :len(d)] = 1
        if ties == 'efron':
            frac[g, :len(d)] = torch.arange(len(d), dtype=torch.float32) / len(d)
    event_mask = torch.zeros(b)
    event_mask[events] = 1
    r = risk.reshape(1, b)
    x = r + offset
    m = x.amax(1, keepdim=True)
    ex = torch.exp(x - m)
    den = ex.sum(1, keepdim=True) - frac * (ex * in_d).sum(1, keepdim=True)
    neg = (torch.log(den) * used).sum() + (m.view(g_n) * d_count).sum() - (r.view(b) * event_mask).sum()
    return neg / len(events)


def make_optimizer(name, params, lr, weight_decay):
    """torch.optim equivalents of core/train/optimizer.ts (see the header)."""
    kw = dict(lr=lr, weight_decay=weight_decay)
    if name == 'adam':
        return torch.optim.Adam(params, betas=(0.9, 0.999), eps=1e-8, **kw)
    if name == 'adamw':
        return torch.optim.AdamW(params, betas=(0.9, 0.999), eps=1e-8, **kw)
    if name == 'radam':
        return torch.optim.RAdam(params, betas=(0.9, 0.999), eps=1e-8, **kw)
    if name == 'sgd':
        return torch.optim.SGD(params, **kw)
    raise ValueError(f'optimizer {name!r}: expected adam, adamw, radam or sgd')


def zero_missing_grads(params):
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)


def learning_rate(schedule, base, step, total, warmup=0):
    import math
    if step < warmup:
        return base * (step + 1) / warmup
    if schedule == 'constant':
        return base
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.5 * base * (1 + math.cos(math.pi * progress))

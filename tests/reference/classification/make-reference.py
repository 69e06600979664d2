#!/usr/bin/python3
"""Reference values for mmsurv's binary classification metrics and its binary head, written by scikit-learn.

Cohort: wpbc (Wisconsin prognostic breast cancer, r-cran-th.data; tests/fixtures/cohorts/THdata_wpbc.csv):
198 patients, outcome status R (recurrence, positive) vs N.

Writes tests/reference/classification/wpbc.json (or into the folder given as the first argument) with
- x: four covariates (tsize, mean_radius, mean_texture, worst_concavepoints) standardised (mean 0, population sd 1)
- y: 1 for R, 0 for N
- logistic: an unpenalised logistic regression (LogisticRegression(penalty=None, lbfgs, tol 1e-12)): intercept,
  coefficients, fitted probabilities and their mean log loss
- metrics: for several scores (the fitted probabilities; the same rounded to 1 decimal, which makes ties; a constant
  0.3, which predicts no positive), roc_auc_score, f1_score(average='weighted') at p >= 0.5, accuracy_score,
  log_loss and brier_score_loss.

Run with Debian's python3 and python3-sklearn (apt-get install python3-sklearn):
    /usr/bin/python3 tests/reference/classification/make-reference.py
"""
import csv
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, brier_score_loss, f1_score, log_loss, roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
COHORT = os.path.join(HERE, '..', '..', 'fixtures', 'cohorts', 'THdata_wpbc.csv')
COVARIATES = ['tsize', 'mean_radius', 'mean_texture', 'worst_concavepoints']


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else HERE
    with open(COHORT, newline='') as f:
        rows = list(csv.DictReader(f))
    y = np.array([1 if r['status'] == 'R' else 0 for r in rows])
    x = np.array([[float(r[k]) for k in COVARIATES] for r in rows])
    x = (x - x.mean(axis=0)) / x.std(axis=0)

    model = LogisticRegression(penalty=None, solver='lbfgs', tol=1e-12, max_iter=100000).fit(x, y)
    p = model.predict_proba(x)[:, 1]

    def metrics(score):
        score = np.asarray(score, dtype=float)
        yhat = (score >= 0.5).astype(int)
        return {
            'score': score.tolist(),
            'roc_auc': roc_auc_score(y, score),
            'f1_weighted': f1_score(y, yhat, average='weighted', zero_division=0),
            'accuracy': accuracy_score(y, yhat),
            'log_loss': log_loss(y, score),
            'brier': brier_score_loss(y, score),
        }

    ref = {
        'source': 'tests/reference/classification/make-reference.py (scikit-learn)',
        'versions': {'sklearn': sklearn.__version__, 'numpy': np.__version__, 'python': sys.version.split()[0]},
        'covariates': COVARIATES,
        'ids': list(range(1, len(rows) + 1)),
        'x': x.tolist(),
        'y': y.tolist(),
        'logistic': {
            'intercept': float(model.intercept_[0]),
            'coef': model.coef_[0].tolist(),
            'probability': p.tolist(),
            'log_loss': log_loss(y, p),
        },
        'metrics': {
            'fitted': metrics(p),
            'rounded': metrics(np.round(p, 1)),
            'constant': metrics(np.full(len(y), 0.3)),
        },
    }
    path = os.path.join(out_dir, 'wpbc.json')
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(ref, f, indent=1)
        f.write('\n')
    os.replace(tmp, path)
    print(f'wrote {path}: n {len(y)}, positives {int(y.sum())}, AUC {ref["metrics"]["fitted"]["roc_auc"]:.6f}')


if __name__ == '__main__':
    main()

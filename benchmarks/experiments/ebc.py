"""The default model end to end on the fixed split, thresholds from its own OOF.

python ebc.py --name default
python ebc.py --name nets_only --params '{"linear": null}'
python ebc.py --name tuned --params '{"linear_weight": 0.5}'
"""

import argparse
import json
import warnings

import _common as c
import numpy as np

from skanime import make_genre_pipeline

warnings.filterwarnings("ignore")
ap = argparse.ArgumentParser()
ap.add_argument("--name", default="default")
ap.add_argument("--params", default="{}", help="make_genre_pipeline params, JSON")
args = ap.parse_args()
params = json.loads(args.params)
for k, v in params.items():
    if isinstance(v, list):
        params[k] = tuple(v)
X, Y, _ = c.load()
tr, te = c.split(Y)
model = make_genre_pipeline(random_state=0, **params)
with c.Timer() as t:
    model.fit(X[tr], Y[tr])
P = model.predict_proba(X[te])
s = c.scores(Y[te], P, model.thresholds_)
s["oracle_micro_f1"] = c.scores(Y[te], P, c.best_global_threshold(Y[te], P))["micro_f1"]
print(c.line(args.name, s, t.seconds, f"th {model.thresholds_.mean():.2f}"), flush=True)
np.savez(f"/tmp/skanime_preds/ebc_{args.name}.npz", oof=model.oof_proba_, test=P)

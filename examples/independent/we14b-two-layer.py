"""Independent figures for examples/we14b-two-layer.yaml (WE-14, two layers).

Stdlib only; does not use symbackprop.  a = sigmoid(w2 * sigmoid(w1*x + b) + mu),
C = sum_i (y_i - a_i)**2 over two examples (reduction sum).  Hidden neuron h:
z1 = w1 x + b, out_h = f(z1); output a: z2 = w2 out_h + mu.
Lecture's formulas, per example, summed:
    dC/dw2 = dC/da . f'(z2) . f(z1)
    dC/dw1 = dC/da . f'(z2) . w2 . f'(z1) . x
    dC/dmu = dC/da . f'(z2),   dC/db = dC/da . f'(z2) . w2 . f'(z1)
with dC/da = -2 (y - a) and f'(z) = f(z)(1 - f(z)).  The shared factor
dC/da . f'(z2) (= delta_a) is computed once and reused, which is the lecture's
point about computing the last layer first.
Cross-checked against central finite differences (h = 1e-6).
"""
import json
import math

DATA = [(0.5, 0.2), (-1.5, 0.9)]       # (x, y)
P0 = {"w1": 0.8, "b": -0.1, "w2": -1.3, "mu": 0.4}


def sig(v):
    return 1.0 / (1.0 + math.exp(-v))


def forward(p):
    z1 = [p["w1"] * x + p["b"] for x, y in DATA]
    h = [sig(v) for v in z1]
    z2 = [p["w2"] * hv + p["mu"] for hv in h]
    a = [sig(v) for v in z2]
    C = sum((y - ai) ** 2 for (x, y), ai in zip(DATA, a))
    return z1, h, z2, a, C


z1, hh, z2, a, C = forward(P0)
delta_a = [-2 * (y - ai) * ai * (1 - ai) for (x, y), ai in zip(DATA, a)]
delta_h = [da * P0["w2"] * hv * (1 - hv) for da, hv in zip(delta_a, hh)]
g = {
    "w1": sum(dh * x for dh, (x, y) in zip(delta_h, DATA)),
    "b": sum(delta_h),
    "w2": sum(da * hv for da, hv in zip(delta_a, hh)),
    "mu": sum(delta_a),
}
eps = 1e-6
for k in P0:
    pp, pm = dict(P0), dict(P0)
    pp[k] += eps
    pm[k] -= eps
    fd = (forward(pp)[4] - forward(pm)[4]) / (2 * eps)
    assert abs(fd - g[k]) <= 1e-6 * max(1.0, abs(g[k])), k

res = {"forward.h.net": z1, "forward.h.out": hh, "forward.a.net": z2, "forward.a.out": a,
       "loss.value": C}
for i in range(len(DATA)):
    res[f"deltas.a__{i + 1}.value"] = delta_a[i]
for i in range(len(DATA)):
    res[f"deltas.h__{i + 1}.value"] = delta_h[i]
for k in ["w1", "b", "w2", "mu"]:
    res[f"gradients.{k}.value"] = g[k]
print(json.dumps(res, indent=2))

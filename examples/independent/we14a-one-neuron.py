"""Independent figures for examples/we14a-one-neuron.yaml (WE-14, one neuron).

Stdlib only; does not use symbackprop.  a = sigmoid(w*x + b),
C = sum_i (y_i - a_i)**2 over two examples (reduction sum).
    dC/da_i = -2 (y_i - a_i),  f'(z_i) = a_i (1 - a_i)
    delta_a__i = dC/da_i * f'(z_i)
    dC/dw = sum_i dC/da_i * f'(z_i) * x_i      (lecture: dC/da . f'(z) . x)
    dC/db = sum_i dC/da_i * f'(z_i)
Cross-checked against central finite differences (h = 1e-6).
"""
import json
import math

DATA = [(0.5, 0.2), (-1.5, 0.9)]       # (x, y)
P0 = {"w": 0.8, "b": -0.1}


def sig(v):
    return 1.0 / (1.0 + math.exp(-v))


def forward(p):
    z = [p["w"] * x + p["b"] for x, y in DATA]
    a = [sig(v) for v in z]
    C = sum((y - ai) ** 2 for (x, y), ai in zip(DATA, a))
    return z, a, C


z, a, C = forward(P0)
delta = [-2 * (y - ai) * ai * (1 - ai) for (x, y), ai in zip(DATA, a)]
g = {"w": sum(d * x for d, (x, y) in zip(delta, DATA)), "b": sum(delta)}
h = 1e-6
for k in P0:
    pp, pm = dict(P0), dict(P0)
    pp[k] += h
    pm[k] -= h
    fd = (forward(pp)[2] - forward(pm)[2]) / (2 * h)
    assert abs(fd - g[k]) <= 1e-6 * max(1.0, abs(g[k])), k

res = {"forward.a.net": z, "forward.a.out": a, "loss.value": C}
for i in range(len(DATA)):
    res[f"deltas.a__{i + 1}.value"] = delta[i]
res["gradients.w.value"] = g["w"]
res["gradients.b.value"] = g["b"]
print(json.dumps(res, indent=2))

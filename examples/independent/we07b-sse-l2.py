"""Independent figures for examples/we07b-sse-l2.yaml (WE-7, regression).

Stdlib only; does not use symbackprop.  f(x) = w2 * tanh(w1*x + b1) + b2,
E = sum_n (t_n - f(x_n))**2 + lambda * (w1**2 + w2**2)   (biases not regularised),
three examples, reduction sum.  Hand-derived gradients, cross-checked against
central finite differences (h = 1e-6):
    delta_f__n = dE/dnet_f__n = -2 (t_n - out_f__n)          (identity output)
    delta_h__n = delta_f__n * w2 * (1 - out_h__n**2)          (tanh)
    dE/dw2 = sum_n delta_f__n * out_h__n + 2*lambda*w2
    dE/db2 = sum_n delta_f__n
    dE/dw1 = sum_n delta_h__n * x__n + 2*lambda*w1
    dE/db1 = sum_n delta_h__n
"""
import json
import math

DATA = [(0.5, 0.8), (-1.0, -0.6), (1.5, 1.1)]      # (x, t_f)
P0 = {"w1": 0.9, "b1": 0.1, "w2": 1.3, "b2": -0.2}
LAM = 0.05


def forward(p):
    rows = []
    for x, t in DATA:
        net_h = p["w1"] * x + p["b1"]
        out_h = math.tanh(net_h)
        net_f = p["w2"] * out_h + p["b2"]
        rows.append((net_h, out_h, net_f, net_f))
    E = sum((t - r[3]) ** 2 for (x, t), r in zip(DATA, rows))
    E += LAM * (p["w1"] ** 2 + p["w2"] ** 2)
    return rows, E


rows, E = forward(P0)
delta_f = [-2 * (t - r[3]) for (x, t), r in zip(DATA, rows)]
delta_h = [df * P0["w2"] * (1 - r[1] ** 2) for df, r in zip(delta_f, rows)]
g = {
    "w1": sum(dh * x for dh, (x, t) in zip(delta_h, DATA)) + 2 * LAM * P0["w1"],
    "b1": sum(delta_h),
    "w2": sum(df * r[1] for df, r in zip(delta_f, rows)) + 2 * LAM * P0["w2"],
    "b2": sum(delta_f),
}
h = 1e-6
for k in P0:
    pp, pm = dict(P0), dict(P0)
    pp[k] += h
    pm[k] -= h
    fd = (forward(pp)[1] - forward(pm)[1]) / (2 * h)
    assert abs(fd - g[k]) <= 1e-6 * max(1.0, abs(g[k])), k

res = {
    "forward.h.net": [r[0] for r in rows],
    "forward.h.out": [r[1] for r in rows],
    "forward.f.net": [r[2] for r in rows],
    "forward.f.out": [r[3] for r in rows],
    "loss.value": E,
}
for n in range(len(DATA)):
    res[f"deltas.f__{n + 1}.value"] = delta_f[n]
for n in range(len(DATA)):
    res[f"deltas.h__{n + 1}.value"] = delta_h[n]
for k in ["w1", "b1", "w2", "b2"]:
    res[f"gradients.{k}.value"] = g[k]
print(json.dumps(res, indent=2))

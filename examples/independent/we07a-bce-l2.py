"""Independent figures for examples/we07a-bce-l2.yaml (WE-7, classification).

Stdlib only; does not use symbackprop.  p = sigmoid(w2 * sigmoid(x^T w1)),
E = -[t log p + (1 - t) log(1 - p)] + lambda * (w1_1**2 + w1_2**2 + w2**2).
Hand-derived gradients, cross-checked against central finite differences:
    delta_p = dE/dnet_p = (-(t/p) + (1 - t)/(1 - p)) * p (1 - p) = p - t
              (sigmoid + BCE simplification, holds for any t)
    delta_h = delta_p * w2 * out_h (1 - out_h)
    dE/dw2   = delta_p * out_h + 2*lambda*w2
    dE/dw1_i = delta_h * x_i   + 2*lambda*w1_i
"""
import json
import math

X = {"x1": 0.6, "x2": -0.4}
P0 = {"w1_1": 0.5, "w1_2": -0.3, "w2": 1.2}
T = 1.0
LAM = 0.01


def sig(v):
    return 1.0 / (1.0 + math.exp(-v))


def forward(p):
    net_h = p["w1_1"] * X["x1"] + p["w1_2"] * X["x2"]
    out_h = sig(net_h)
    net_p = p["w2"] * out_h
    out_p = sig(net_p)
    bce = -(T * math.log(out_p) + (1 - T) * math.log(1 - out_p))
    E = bce + LAM * sum(v * v for v in p.values())
    return net_h, out_h, net_p, out_p, E


net_h, out_h, net_p, out_p, E = forward(P0)
dE_dout = -(T / out_p) + (1 - T) / (1 - out_p)
delta_p = dE_dout * out_p * (1 - out_p)
assert abs(delta_p - (out_p - T)) <= 1e-15
delta_h = delta_p * P0["w2"] * out_h * (1 - out_h)
g = {
    "w1_1": delta_h * X["x1"] + 2 * LAM * P0["w1_1"],
    "w1_2": delta_h * X["x2"] + 2 * LAM * P0["w1_2"],
    "w2": delta_p * out_h + 2 * LAM * P0["w2"],
}
h = 1e-6
for k in P0:
    pp, pm = dict(P0), dict(P0)
    pp[k] += h
    pm[k] -= h
    fd = (forward(pp)[4] - forward(pm)[4]) / (2 * h)
    assert abs(fd - g[k]) <= 1e-6 * max(1.0, abs(g[k])), k

print(json.dumps({
    "forward.h.net": net_h,
    "forward.h.out": out_h,
    "forward.p.net": net_p,
    "forward.p.out": out_p,
    "loss.value": E,
    "deltas.p.value": delta_p,
    "deltas.h.value": delta_h,
    "gradients.w1_1.value": g["w1_1"],
    "gradients.w1_2.value": g["w1_2"],
    "gradients.w2.value": g["w2"],
}, indent=2))

"""Independent figures for examples/residual-block.yaml (two residual blocks, sigmoid output).

Stdlib only; does not use symbackprop.  Forward:
    a1 = tanh(w1 x),   h1 = x + v1 a1          (skip edge, weight 1)
    a2 = tanh(w2 h1),  h2 = h1 + v2 a2         (skip edge, weight 1)
    o  = sigmoid(w3 h2 + b),  E = (t - o)^2 / 2
Backward by hand (the skip adds the upstream error unchanged):
    d_o  = (o - t) o (1 - o)
    d_h2 = w3 d_o                      (identity: delta = dE/dout)
    d_a2 = v2 d_h2 (1 - a2^2)
    d_h1 = w2 d_a2 + d_h2              (through the block + along the skip)
    d_a1 = v1 d_h1 (1 - a1^2)
    dE/dw1 = d_a1 x, dE/dv1 = d_h1 a1, dE/dw2 = d_a2 h1, dE/dv2 = d_h2 a2,
    dE/dw3 = d_o h2, dE/db = d_o.
Cross-checked against central finite differences (h = 1e-6).
"""
import json
import math

X, T = 0.5, 1.0
P0 = {"w1": 0.8, "v1": -0.6, "w2": 0.3, "v2": 0.9, "w3": 1.1, "b": -0.2}


def forward(p):
    a1 = math.tanh(p["w1"] * X)
    h1 = X + p["v1"] * a1
    a2 = math.tanh(p["w2"] * h1)
    h2 = h1 + p["v2"] * a2
    net_o = p["w3"] * h2 + p["b"]
    o = 1 / (1 + math.exp(-net_o))
    return a1, h1, a2, h2, net_o, o, (T - o) ** 2 / 2


a1, h1, a2, h2, net_o, o, E = forward(P0)
d_o = (o - T) * o * (1 - o)
d_h2 = P0["w3"] * d_o
d_a2 = P0["v2"] * d_h2 * (1 - a2 ** 2)
d_h1 = P0["w2"] * d_a2 + d_h2
d_a1 = P0["v1"] * d_h1 * (1 - a1 ** 2)
g = {"w1": d_a1 * X, "v1": d_h1 * a1, "w2": d_a2 * h1, "v2": d_h2 * a2, "w3": d_o * h2, "b": d_o}
for k in P0:
    up, down = dict(P0), dict(P0)
    up[k] += 1e-6
    down[k] -= 1e-6
    fd = (forward(up)[-1] - forward(down)[-1]) / 2e-6
    assert abs(fd - g[k]) <= 1e-6 * max(1.0, abs(g[k])), k

res = {"forward.a1.out": a1, "forward.h1.out": h1, "forward.a2.out": a2, "forward.h2.out": h2,
       "forward.o.net": net_o, "forward.o.out": o, "loss.value": E,
       "deltas.o.value": d_o, "deltas.h2.value": d_h2, "deltas.a2.value": d_a2,
       "deltas.h1.value": d_h1, "deltas.a1.value": d_a1}
res.update({f"gradients.{k}.value": v for k, v in g.items()})
print(json.dumps(res, indent=2))

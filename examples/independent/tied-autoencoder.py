"""Independent figures for examples/tied-autoencoder.yaml (a tied 2-1-2 autoencoder).

Stdlib only; does not use symbackprop.  Encoder h = sigmoid(w1 x1 + w2 x2 + b); decoder with
the same weights (tied, W2 = W1^T): y_i = w_i h + c_i; the targets are the inputs:
E = ((x1 - y1)^2 + (x2 - y2)^2) / 2.
By hand:  d_yi = y_i - x_i,  d_h = h (1 - h) (w1 d_y1 + w2 d_y2),
    dE/dw_i = d_h x_i + d_yi h      (the encoder's use plus the decoder's use of the tied weight)
    dE/db = d_h,  dE/dc_i = d_yi.
Cross-checked against central finite differences (h = 1e-6).
"""
import json
import math

X = [0.8, -0.4]
P0 = {"w1": 0.5, "w2": -0.7, "b": 0.1, "c1": 0.2, "c2": -0.1}


def forward(p):
    w = [p["w1"], p["w2"]]
    net_h = w[0] * X[0] + w[1] * X[1] + p["b"]
    h = 1 / (1 + math.exp(-net_h))
    y = [w[0] * h + p["c1"], w[1] * h + p["c2"]]
    return net_h, h, y, sum((x - yi) ** 2 for x, yi in zip(X, y)) / 2


net_h, h, y, E = forward(P0)
d_y = [y[0] - X[0], y[1] - X[1]]
d_h = h * (1 - h) * (P0["w1"] * d_y[0] + P0["w2"] * d_y[1])
g = {"w1": d_h * X[0] + d_y[0] * h, "w2": d_h * X[1] + d_y[1] * h, "b": d_h, "c1": d_y[0], "c2": d_y[1]}
for k in P0:
    up, down = dict(P0), dict(P0)
    up[k] += 1e-6
    down[k] -= 1e-6
    fd = (forward(up)[-1] - forward(down)[-1]) / 2e-6
    assert abs(fd - g[k]) <= 1e-6 * max(1.0, abs(g[k])), k

res = {"forward.h.net": net_h, "forward.h.out": h, "forward.y1.out": y[0], "forward.y2.out": y[1],
       "loss.value": E, "deltas.y1.value": d_y[0], "deltas.y2.value": d_y[1], "deltas.h.value": d_h}
res.update({f"gradients.{k}.value": v for k, v in g.items()})
print(json.dumps(res, indent=2))

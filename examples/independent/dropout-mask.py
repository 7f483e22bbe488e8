"""Independent figures for examples/dropout-mask.yaml (inverted dropout with fixed masks, 2-3-2).

Stdlib only; does not use symbackprop.  For each example n (masks m given as inputs):
    a_j = w_j1 x1 + w_j2 x2,  h_j = sigmoid(a_j),  d_j = 1.5 h_j m_j        (the map)
    net_k = sum_j v_kj d_j + b_k,  y_k = sigmoid(net_k),  E_n = 1/2 sum_k (t_k - y_k)^2
    J = (E_1 + E_2) / 2                                                    (reduction: mean)
Backward by hand, per example (δ of the mean loss J, as the scalar derivation names it):
    dy_k = (y_k - t_k) y_k (1 - y_k) / 2
    dd_j = sum_k v_kj dy_k                     (∂J/∂d_j, the map node's δ)
    dh_j = dd_j * 1.5 m_j * h_j (1 - h_j)      (the map's derivative 1.5 m_j, then the sigmoid's)
    dJ/dw_ji = sum_n dh_j x_i,  dJ/dv_kj = sum_n dy_k d_j,  dJ/db_k = sum_n dy_k.
Then one step with η = 0.5 and the loss after it. Every gradient is cross-checked against
central finite differences of J (h = 1e-6).
"""
import json
import math

DATA = [({"x1": 0.5, "x2": -0.3, "m1": 1, "m2": 0, "m3": 1}, {"y1": 1, "y2": 0}),
        ({"x1": -0.2, "x2": 0.8, "m1": 0, "m2": 1, "m3": 1}, {"y1": 0, "y2": 1})]
P0 = {"w11": 0.4, "w12": -0.7, "w21": 0.2, "w22": 0.5, "w31": -0.6, "w32": 0.3,
      "v11": 0.8, "v12": -0.4, "v13": 0.5, "v21": -0.3, "v22": 0.9, "v23": 0.2, "b1": 0.1, "b2": -0.1}
ETA, H, Y = 0.5, (1, 2, 3), (1, 2)


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def forward(p, x):
    a = {j: p[f"w{j}1"] * x["x1"] + p[f"w{j}2"] * x["x2"] for j in H}
    h = {j: sigmoid(a[j]) for j in H}
    d = {j: 1.5 * h[j] * x[f"m{j}"] for j in H}
    net = {k: sum(p[f"v{k}{j}"] * d[j] for j in H) + p[f"b{k}"] for k in Y}
    y = {k: sigmoid(net[k]) for k in Y}
    return a, h, d, net, y


def loss(p):
    total = 0.0
    for x, t in DATA:
        y = forward(p, x)[-1]
        total += 0.5 * sum((t[f"y{k}"] - y[k]) ** 2 for k in Y)
    return total / len(DATA)


res = {}
g = {k: 0.0 for k in P0}
for n, (x, t) in enumerate(DATA, start=1):
    a, h, d, net, y = forward(P0, x)
    dy = {k: (y[k] - t[f"y{k}"]) * y[k] * (1 - y[k]) / len(DATA) for k in Y}
    dd = {j: sum(P0[f"v{k}{j}"] * dy[k] for k in Y) for j in H}
    dh = {j: dd[j] * 1.5 * x[f"m{j}"] * h[j] * (1 - h[j]) for j in H}
    for j in H:
        res[f"forward.h{j}.net.{n - 1}"] = a[j]
        res[f"forward.h{j}.out.{n - 1}"] = h[j]
        res[f"forward.d{j}.value.{n - 1}"] = d[j]
        res[f"deltas.h{j}__{n}.value"] = dh[j]
        res[f"deltas.d{j}__{n}.value"] = dd[j]
        for i in (1, 2):
            g[f"w{j}{i}"] += dh[j] * x[f"x{i}"]
    for k in Y:
        res[f"forward.y{k}.net.{n - 1}"] = net[k]
        res[f"forward.y{k}.out.{n - 1}"] = y[k]
        res[f"deltas.y{k}__{n}.value"] = dy[k]
        g[f"b{k}"] += dy[k]
        for j in H:
            g[f"v{k}{j}"] += dy[k] * d[j]
for k in P0:
    up, down = dict(P0), dict(P0)
    up[k] += 1e-6
    down[k] -= 1e-6
    fd = (loss(up) - loss(down)) / 2e-6
    assert abs(fd - g[k]) <= 1e-7 * max(1.0, abs(g[k])), k
res["loss.value"] = loss(P0)
res.update({f"gradients.{k}.value": v for k, v in g.items()})
after = {k: P0[k] - ETA * g[k] for k in P0}
res.update({f"updated_params.{k}": v for k, v in after.items()})
res["loss_after_update"] = loss(after)
print(json.dumps(res, indent=2))

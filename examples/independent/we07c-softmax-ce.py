"""Independent figures for examples/we07c-softmax-ce.yaml (WE-7, softmax + CE).

Stdlib only; does not use symbackprop.  Two inputs, two sigmoid hidden neurons,
three softmax outputs p1, p2, p3 (one group) with biases c1..c3,
E = -sum_k t_k log out_pk with one-hot targets (0, 1, 0).

delta_k = dE/dnet_pk is computed WITHOUT the shortcut, through the full softmax
Jacobian:  delta_k = sum_j (dE/dout_j) * out_j (1[j=k] - out_k),  dE/dout_j = -t_j/out_j,
and then asserted equal to out_k - t_k (valid because sum_k t_k = 1).
    delta_hi = out_hi (1 - out_hi) * sum_k v_ki * delta_k
    dE/dv_ki = delta_k * out_hi,  dE/dc_k = delta_k,  dE/du_ij = delta_hi * x_j
Cross-checked against central finite differences (h = 1e-6).
"""
import json
import math

X = [1.0, -0.5]
T = [0.0, 1.0, 0.0]
P0 = {"u11": 0.3, "u12": -0.8, "u21": 0.6, "u22": 0.2,
      "v11": 0.5, "v12": -0.4, "v21": -0.3, "v22": 0.9, "v31": 0.8, "v32": 0.1,
      "c1": 0.1, "c2": -0.2, "c3": 0.05}


def sig(v):
    return 1.0 / (1.0 + math.exp(-v))


def forward(p):
    net_h = [p[f"u{i}1"] * X[0] + p[f"u{i}2"] * X[1] for i in (1, 2)]
    out_h = [sig(v) for v in net_h]
    net_p = [p[f"v{k}1"] * out_h[0] + p[f"v{k}2"] * out_h[1] + p[f"c{k}"] for k in (1, 2, 3)]
    m = max(net_p)
    ex = [math.exp(v - m) for v in net_p]
    s = sum(ex)
    out_p = [e / s for e in ex]
    E = -sum(t * math.log(o) for t, o in zip(T, out_p) if t != 0)
    return net_h, out_h, net_p, out_p, E


net_h, out_h, net_p, out_p, E = forward(P0)
dE_dout = [-t / o for t, o in zip(T, out_p)]
delta_p = [sum(dE_dout[j] * out_p[j] * ((1.0 if j == k else 0.0) - out_p[k]) for j in range(3))
           for k in range(3)]
for k in range(3):
    assert abs(delta_p[k] - (out_p[k] - T[k])) <= 1e-15
delta_h = [out_h[i] * (1 - out_h[i]) * sum(P0[f"v{k + 1}{i + 1}"] * delta_p[k] for k in range(3))
           for i in range(2)]
g = {}
for i in (1, 2):
    for j in (1, 2):
        g[f"u{i}{j}"] = delta_h[i - 1] * X[j - 1]
for k in (1, 2, 3):
    for i in (1, 2):
        g[f"v{k}{i}"] = delta_p[k - 1] * out_h[i - 1]
    g[f"c{k}"] = delta_p[k - 1]
h = 1e-6
for k in P0:
    pp, pm = dict(P0), dict(P0)
    pp[k] += h
    pm[k] -= h
    fd = (forward(pp)[4] - forward(pm)[4]) / (2 * h)
    assert abs(fd - g[k]) <= 1e-6 * max(1.0, abs(g[k])), k

res = {}
for i in range(2):
    res[f"forward.h{i + 1}.net"] = net_h[i]
    res[f"forward.h{i + 1}.out"] = out_h[i]
for k in range(3):
    res[f"forward.p{k + 1}.net"] = net_p[k]
    res[f"forward.p{k + 1}.out"] = out_p[k]
res["loss.value"] = E
for k in range(3):
    res[f"deltas.p{k + 1}.value"] = delta_p[k]
for i in range(2):
    res[f"deltas.h{i + 1}.value"] = delta_h[i]
for k in P0:
    res[f"gradients.{k}.value"] = g[k]
print(json.dumps(res, indent=2))

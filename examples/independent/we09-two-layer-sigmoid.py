"""Independent figures for examples/we09-two-layer-sigmoid.yaml (WE-9, scalar form).

Stdlib only; does not use symbackprop.
    a1 = W1 x,  h = sigmoid(a1),  a2 = w2 . h,  z = sigmoid(a2)
    J  = 1/(2N) sum_p (c_p - z_p)**2,   N = 3 examples, reduction mean
W1 names W1_{row}{col}: row = target hidden neuron, column = source input; no biases.

Gradient by the lecture's matrix recipe (the delta x^T "trick"), per example p:
    delta_z__p  = dJ/da2_p = (1/N) * (-(c_p - z_p)) * z_p (1 - z_p)
    dJ/dw2_i    = sum_p delta_z__p * h_i,p                 (backward x forward)
    delta_hi__p = dJ/da1_i,p = delta_z__p * w2_i * h_i,p (1 - h_i,p)
                  (= (delta_z w2 (.) sigma'(a1)), dh/da1 diagonal)
    dJ/dW1_ij   = sum_p delta_hi__p * x_j,p                (delta x^T)
Note the deltas include the 1/N of the mean: delta = d(total J)/d(net of example p).
Cross-checked against central finite differences (h = 1e-6).
"""
import json
import math

DATA = [((0.5, 1.0), 0.9), ((-0.3, 0.8), 0.2), ((1.2, -0.5), 0.6)]   # ((x1, x2), c)
P0 = {"W1_11": 0.4, "W1_12": -0.6, "W1_21": 0.7, "W1_22": 0.3, "w2_1": 1.1, "w2_2": -0.8}
N = len(DATA)


def sig(v):
    return 1.0 / (1.0 + math.exp(-v))


def forward(p):
    rows = []
    for (x1, x2), c in DATA:
        a1 = [p["W1_11"] * x1 + p["W1_12"] * x2, p["W1_21"] * x1 + p["W1_22"] * x2]
        h = [sig(v) for v in a1]
        a2 = p["w2_1"] * h[0] + p["w2_2"] * h[1]
        z = sig(a2)
        rows.append((a1, h, a2, z))
    J = sum((c - r[3]) ** 2 for (x, c), r in zip(DATA, rows)) / (2 * N)
    return rows, J


rows, J = forward(P0)
dz = [(1.0 / N) * (-(c - r[3])) * r[3] * (1 - r[3]) for (x, c), r in zip(DATA, rows)]
dh = [[dz[p] * P0[f"w2_{i + 1}"] * rows[p][1][i] * (1 - rows[p][1][i]) for i in range(2)]
      for p in range(N)]
g = {}
for i in range(2):
    g[f"w2_{i + 1}"] = sum(dz[p] * rows[p][1][i] for p in range(N))
    for j in range(2):
        g[f"W1_{i + 1}{j + 1}"] = sum(dh[p][i] * DATA[p][0][j] for p in range(N))
h = 1e-6
for k in P0:
    pp, pm = dict(P0), dict(P0)
    pp[k] += h
    pm[k] -= h
    fd = (forward(pp)[1] - forward(pm)[1]) / (2 * h)
    assert abs(fd - g[k]) <= 1e-6 * max(1.0, abs(g[k])), k

res = {}
for i in range(2):
    res[f"forward.h{i + 1}.net"] = [r[0][i] for r in rows]
    res[f"forward.h{i + 1}.out"] = [r[1][i] for r in rows]
res["forward.z.net"] = [r[2] for r in rows]
res["forward.z.out"] = [r[3] for r in rows]
res["loss.value"] = J
for p in range(N):
    res[f"deltas.z__{p + 1}.value"] = dz[p]
for p in range(N):
    for i in range(2):
        res[f"deltas.h{i + 1}__{p + 1}.value"] = dh[p][i]
for k in ["W1_11", "W1_12", "W1_21", "W1_22", "w2_1", "w2_2"]:
    res[f"gradients.{k}.value"] = g[k]
print(json.dumps(res, indent=2))

"""Independent figures for examples/we09-matrix.yaml (WE-9 in matrix notation).

Stdlib only; does not use symbackprop. Lists of rows are matrices, lists are column vectors.
    a1 = W1 x,  h = sigmoid(a1),  a2 = W2 h,  z = sigmoid(a2)
    J  = 1/(2N) sum_p (c_p - z_p)**2,   N = 3 examples, reduction mean
W1[j][i]: row j = hidden neuron, column i = input (the spec's w1_{j}_{i}).

The lecture's matrix recipe, per example p (no 1/N inside the deltas):
    dJ/dz        = -(c - z)                                  (row vector, one entry)
    delta2       = (dz/da2)^T (dJ/dz)^T = -(c - z) * z(1 - z)
    delta1       = (W2^T delta2) (.) sigma'(a1)              (dh/da1 is diagonal)
    dJ/dW(l)     = 1/N sum_p delta(l) h(l-1)^T               (the delta x^T trick)
Cross-checked against central finite differences (h = 1e-6) of J.
"""
import json
import math

DATA = [([0.5, 1.0], 0.9), ([-0.3, 0.8], 0.2), ([1.2, -0.5], 0.6)]   # (x, c)
W1 = [[0.4, -0.6], [0.7, 0.3]]
W2 = [[1.1, -0.8]]
N = len(DATA)


def sig(v):
    return 1.0 / (1.0 + math.exp(-v))


def matvec(m, v):
    return [sum(a * b for a, b in zip(row, v)) for row in m]


def transpose(m):
    return [list(col) for col in zip(*m)]


def outer(u, v):
    return [[a * b for b in v] for a in u]


def add(m, n):
    return [[a + b for a, b in zip(r, s)] for r, s in zip(m, n)]


def scale(m, k):
    return [[k * a for a in r] for r in m]


def forward(w1, w2):
    rows = []
    for x, c in DATA:
        a1 = matvec(w1, x)
        h = [sig(v) for v in a1]
        a2 = matvec(w2, h)
        z = [sig(v) for v in a2]
        rows.append((a1, h, a2, z))
    loss = sum((c - r[3][0]) ** 2 for (x, c), r in zip(DATA, rows)) / (2 * N)
    return rows, loss


rows, J = forward(W1, W2)
G1 = [[0.0, 0.0], [0.0, 0.0]]
G2 = [[0.0, 0.0]]
d1s, d2s = [], []
for (x, c), (a1, h, a2, z) in zip(DATA, rows):
    d2 = [-(c - z[0]) * z[0] * (1 - z[0])]
    back = matvec(transpose(W2), d2)
    d1 = [b * hi * (1 - hi) for b, hi in zip(back, h)]
    G2 = add(G2, outer(d2, h))
    G1 = add(G1, outer(d1, x))
    d1s.append(d1)
    d2s.append(d2)
G1, G2 = scale(G1, 1.0 / N), scale(G2, 1.0 / N)

step = 1e-6
for name, matrix, grad in (("W1", W1, G1), ("W2", W2, G2)):
    for j, row in enumerate(matrix):
        for i, _ in enumerate(row):
            up = [list(r) for r in matrix]
            down = [list(r) for r in matrix]
            up[j][i] += step
            down[j][i] -= step
            if name == "W1":
                fd = (forward(up, W2)[1] - forward(down, W2)[1]) / (2 * step)
            else:
                fd = (forward(W1, up)[1] - forward(W1, down)[1]) / (2 * step)
            assert abs(fd - grad[j][i]) <= 1e-6 * max(1.0, abs(grad[j][i])), (name, j, i)

res = {"loss.value": J, "layer_view.loss": J}
for j in range(2):
    res[f"forward.h1_{j + 1}.out"] = [r[1][j] for r in rows]
res["forward.y1.out"] = [r[3][0] for r in rows]
for j in range(2):
    for i in range(2):
        res[f"gradients.w1_{j + 1}_{i + 1}.value"] = G1[j][i]
    res[f"gradients.w2_1_{j + 1}.value"] = G2[0][j]
for j in range(2):
    res[f"layer_view.layers.1.values.gradient.{j}"] = G1[j]
res["layer_view.layers.2.values.gradient.0"] = G2[0]
for p in range(N):
    res[f"layer_view.layers.1.values.outs.{p}"] = rows[p][1]
    res[f"layer_view.layers.1.values.deltas.{p}"] = d1s[p]
    res[f"layer_view.layers.2.values.deltas.{p}"] = d2s[p]
print(json.dumps(res, indent=2))

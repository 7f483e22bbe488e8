"""Independent figures for examples/we13-relu-3layer.yaml (WE-13).

Stdlib only; does not use symbackprop.  f = W3 relu(W2 relu(W1 x)), no biases,
layers [2, 3, 3, 1], loss MSE (one output: (t - f)**2), 4 examples, reduction
mean, one training step W <- W - alpha dL/dW with alpha = 0.05.

Weights: drawn once from N(0, 1) with Python's random.Random(20).gauss in the
order W1 (row by row), W2, W3, rounded to 2 d.p.; seed 20 is the first seed from
13 on for which every hidden pre-activation of every example is at least 0.25
away from the ReLU kink and every hidden neuron is active on some example.
(The numbers are written out below; this script does not draw them.)

Hand-derived backward pass (delta = dL/dnet, includes the 1/N of the mean):
    delta_y1__n  = (1/N) * 2 (out_y1 - t) * 1                 (identity output)
    delta_h2_j__n = relu'(net_h2_j) * w3_1_j * delta_y1__n
    delta_h1_j__n = relu'(net_h1_j) * sum_k w2_k_j * delta_h2_k__n
    dL/dw{l}_{j}_{i} = sum_n delta_{l,j}__n * out_{l-1,i}__n
Cross-checked against central finite differences (h = 1e-6), which are safe
here because no pre-activation is within 0.25 of the kink (asserted).
"""
import json

SIZES = [2, 3, 3, 1]
W1 = [[1.26, -0.85], [0.22, -2.16], [-0.09, 1.42]]
W2 = [[1.68, -1.14, -0.55], [-0.27, -2.71, 1.68], [0.7, 0.53, 1.04]]
W3 = [[-0.34, 0.22, 0.84]]
DATA = [((1.0, 0.5), 1.0), ((-0.5, 1.5), -0.5), ((2.0, -1.0), 0.8), ((0.3, -0.8), 0.2)]
ALPHA = 0.05
N = len(DATA)
ACT = ["relu", "relu", "identity"]


def to_params(Ws):
    p = {}
    for l, W in enumerate(Ws, start=1):
        for j, row in enumerate(W, start=1):
            for i, v in enumerate(row, start=1):
                p[f"w{l}_{j}_{i}"] = v
    return p


P0 = to_params([W1, W2, W3])


def name(l, j):
    return f"y{j}" if l == len(SIZES) - 1 else f"h{l}_{j}"


def forward(p):
    per = []
    for x, t in DATA:
        outs, nets = [list(x)], [None]
        for l in range(1, len(SIZES)):
            net = [sum(p[f"w{l}_{j}_{i}"] * outs[l - 1][i - 1] for i in range(1, SIZES[l - 1] + 1))
                   for j in range(1, SIZES[l] + 1)]
            out = [max(0.0, v) for v in net] if ACT[l - 1] == "relu" else list(net)
            nets.append(net)
            outs.append(out)
        per.append((nets, outs))
    Lval = sum((t - per[n][1][-1][0]) ** 2 for n, (x, t) in enumerate(DATA)) / N
    return per, Lval


def backward(p, per):
    g = {k: 0.0 for k in p}
    deltas = []
    for n, (x, t) in enumerate(DATA):
        nets, outs = per[n]
        Lt = len(SIZES) - 1
        d = {Lt: [(1.0 / N) * 2 * (outs[Lt][0] - t)]}
        for l in range(Lt - 1, 0, -1):
            d[l] = [(1.0 if nets[l][j] > 0 else 0.0) *
                    sum(p[f"w{l + 1}_{k + 1}_{j + 1}"] * d[l + 1][k] for k in range(SIZES[l + 1]))
                    for j in range(SIZES[l])]
        for l in range(1, Lt + 1):
            for j in range(SIZES[l]):
                for i in range(SIZES[l - 1]):
                    g[f"w{l}_{j + 1}_{i + 1}"] += d[l][j] * outs[l - 1][i]
        deltas.append(d)
    return g, deltas


def min_kink_distance(per):
    return min(abs(v) for nets, outs in per for l in (1, 2) for v in nets[l])


per, L0 = forward(P0)
assert min_kink_distance(per) >= 0.25
g, deltas = backward(P0, per)
h = 1e-6
for k in P0:
    pp, pm = dict(P0), dict(P0)
    pp[k] += h
    pm[k] -= h
    fd = (forward(pp)[1] - forward(pm)[1]) / (2 * h)
    assert abs(fd - g[k]) <= 1e-6 * max(1.0, abs(g[k])), k
P1 = {k: P0[k] - ALPHA * g[k] for k in P0}
per1, L1 = forward(P1)
assert min_kink_distance(per1) >= 0.05   # the second pass is also kink-free

res = {}
for l in range(1, len(SIZES)):
    for j in range(SIZES[l]):
        res[f"forward.{name(l, j + 1)}.net"] = [per[n][0][l][j] for n in range(N)]
        res[f"forward.{name(l, j + 1)}.out"] = [per[n][1][l][j] for n in range(N)]
res["loss.value"] = L0
for n in range(N):
    for l in range(len(SIZES) - 1, 0, -1):
        for j in range(SIZES[l]):
            res[f"deltas.{name(l, j + 1)}__{n + 1}.value"] = deltas[n][l][j]
for k in P0:
    res[f"gradients.{k}.value"] = g[k]
for k in P0:
    res[f"updated_params.{k}"] = P1[k]
res["loss_after_update"] = L1
res["forward_after_update.y1.out"] = [per1[n][1][-1][0] for n in range(N)]


def clean(v):                       # no negative zeros in the printed figures
    return [x + 0.0 for x in v] if isinstance(v, list) else v + 0.0


print(json.dumps({k: clean(v) for k, v in res.items()}, indent=2))

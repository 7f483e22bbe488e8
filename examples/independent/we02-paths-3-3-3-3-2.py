"""Independent figures for examples/we02-paths-3-3-3-3-2.yaml (WE-2).

Stdlib only; does not use symbackprop.  A 3-3-3-3-2 sigmoid network, no
biases, E = MSE over the two outputs = 1/2 * sum_o (t_o - out_o)**2.

Weights (layered-shorthand names w{l}_{j}_{i}: into layer l, target j, source i):
    w{l}_{j}_{i} = (-1)**(i + j) * (1 + (2*l + 3*j + 5*i) % 9) / 10
Inputs x = (0.5, -0.3, 0.8); targets t_y1 = 0.2, t_y2 = 0.9.

Method 1, cached backprop (hand-derived):
    delta_y  = dE/dout_y * out_y (1 - out_y),  dE/dout_y = (out_y - t_y)   (2/K with K = 2)
    delta_j  = out_j (1 - out_j) * sum_k w_{k j} delta_k      (formulas 1 and 2 of WE-3)
    dE/dw_{j i} = delta_j * out_i                              (formula 3)
Method 2, paths: dE/dw = sum over every path w -> E of the product of the local
derivatives along it; enumerated explicitly for every weight and asserted equal
to method 1.  Path counts: 3*3*2 = 18 for layer-1 weights, 3*2 = 6, 2, 1.
Both are also checked against central finite differences (h = 1e-6).
"""
import itertools
import json
import math

SIZES = [3, 3, 3, 3, 2]
L = len(SIZES) - 1
X = [0.5, -0.3, 0.8]
T = [0.2, 0.9]


def sig(v):
    return 1.0 / (1.0 + math.exp(-v))


def init():
    W = {}
    for l in range(1, L + 1):
        for j in range(1, SIZES[l] + 1):
            for i in range(1, SIZES[l - 1] + 1):
                W[(l, j, i)] = (-1) ** (i + j) * (1 + (2 * l + 3 * j + 5 * i) % 9) / 10
    return W


def forward(W):
    outs = [X[:]]
    nets = [None]
    for l in range(1, L + 1):
        net = [sum(W[(l, j, i)] * outs[l - 1][i - 1] for i in range(1, SIZES[l - 1] + 1))
               for j in range(1, SIZES[l] + 1)]
        nets.append(net)
        outs.append([sig(v) for v in net])
    E = sum((t - o) ** 2 for t, o in zip(T, outs[L])) / len(T)
    return nets, outs, E


def name(l, j):
    return f"y{j}" if l == L else f"h{l}_{j}"


W = init()
nets, outs, E = forward(W)

# --- method 1: cached backprop
K = len(T)
delta = {L: [(2.0 / K) * (outs[L][j] - T[j]) * outs[L][j] * (1 - outs[L][j]) for j in range(SIZES[L])]}
for l in range(L - 1, 0, -1):
    delta[l] = [outs[l][j] * (1 - outs[l][j]) *
                sum(W[(l + 1, k + 1, j + 1)] * delta[l + 1][k] for k in range(SIZES[l + 1]))
                for j in range(SIZES[l])]
grad = {key: delta[key[0]][key[1] - 1] * outs[key[0] - 1][key[2] - 1] for key in W}

# --- method 2: explicit path enumeration
def dE_dout(j):
    return (2.0 / K) * (outs[L][j] - T[j])


def sigp(l, j):
    return outs[l][j] * (1 - outs[l][j])


paths_grad, paths_count = {}, {}
for (l, j, i) in W:
    total, count = 0.0, 0
    later = [range(SIZES[m]) for m in range(l + 1, L + 1)]
    for tail in itertools.product(*later):
        chain = [j - 1] + list(tail)              # neuron index in layers l, l+1, ..., L
        prod = outs[l - 1][i - 1]                  # d net_{l,j} / d w
        for step, m in enumerate(range(l, L + 1)):
            prod *= sigp(m, chain[step])           # d out / d net
            if m < L:
                prod *= W[(m + 1, chain[step + 1] + 1, chain[step] + 1)]   # d net_next / d out
        prod *= dE_dout(chain[-1])
        total += prod
        count += 1
    paths_grad[(l, j, i)] = total
    paths_count[(l, j, i)] = count
    assert abs(total - grad[(l, j, i)]) <= 1e-14, (l, j, i)
assert paths_count[(1, 1, 1)] == 18

# --- finite differences
h = 1e-6
for key in W:
    Wp, Wm = dict(W), dict(W)
    Wp[key] += h
    Wm[key] -= h
    fd = (forward(Wp)[2] - forward(Wm)[2]) / (2 * h)
    assert abs(fd - grad[key]) <= 1e-6 * max(1.0, abs(grad[key])), key

res = {}
for l in range(1, L + 1):
    for j in range(SIZES[l]):
        res[f"forward.{name(l, j + 1)}.net"] = nets[l][j]
        res[f"forward.{name(l, j + 1)}.out"] = outs[l][j]
res["loss.value"] = E
for l in range(1, L + 1):
    for j in range(SIZES[l]):
        res[f"deltas.{name(l, j + 1)}.value"] = delta[l][j]
for (l, j, i) in sorted(W):
    res[f"gradients.w{l}_{j}_{i}.value"] = grad[(l, j, i)]
for (l, j, i) in sorted(W):
    res[f"gradients.w{l}_{j}_{i}.path_count"] = paths_count[(l, j, i)]
print(json.dumps(res, indent=2))

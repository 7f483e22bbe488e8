"""Independent figures for examples/rnn-truncated.yaml.

Stdlib only; does not use symbackprop.  A tanh RNN with a 2-unit state over T = 4 steps,
one input and one identity output, loss E = 1/2 (y_4 - t)**2 at the last step only:
    h_t = tanh(W h_{t-1} + U x_t + b),   y_4 = V h_4 + c,   h_0 = 0
Full BPTT (the true gradient), hand-derived:
    delta_y = y_4 - t,   g_t = dE/dh_t:  g_4 = V^T delta_y,  g_{t-1} = W^T delta_h_t
    delta_h_t = (1 - h_t**2) * g_t  (element-wise)
    dE/dW = sum_t delta_h_t h_{t-1}^T,  dE/dU = sum_t delta_h_t x_t,  dE/db = sum_t delta_h_t
Truncated BPTT with k = 2: the same recursion, but nothing is carried back from h_3 into
h_2 (the state is detached before step T - k + 1 = 3), so delta_h_2 = delta_h_1 = 0 and the
sums run over t = 3, 4 only.  The true gradient is cross-checked against central finite
differences (h = 1e-6); the truncated one against finite differences of the loss with h_2
held at its unperturbed value (what h_2.detach() means).
"""
import json
import math

W = [[0.5, -0.3], [0.2, 0.4]]
U = [0.7, -0.6]
V = [1.1, -0.9]
B = [0.05, -0.1]
C = 0.0
XS = [0.9, -0.4, 0.6, 0.3]
TARGET = 0.5
K = 2
NAMES = ["W_1_1", "W_1_2", "W_2_1", "W_2_2", "U_1_1", "U_2_1", "V_1_1", "V_1_2", "b_1", "b_2", "c"]


def pack():
    return dict(zip(NAMES, [W[0][0], W[0][1], W[1][0], W[1][1], U[0], U[1], V[0], V[1], B[0], B[1], C]))


def run(p, frozen=None):
    """States h_0..h_4 and the loss; frozen = (t, state) replaces h_t."""
    w = [[p["W_1_1"], p["W_1_2"]], [p["W_2_1"], p["W_2_2"]]]
    h, hs = [0.0, 0.0], [[0.0, 0.0]]
    for t, x in enumerate(XS, start=1):
        h = [math.tanh(w[j][0] * h[0] + w[j][1] * h[1] + p[f"U_{j + 1}_1"] * x + p[f"b_{j + 1}"]) for j in (0, 1)]
        if frozen and frozen[0] == t:
            h = frozen[1]
        hs.append(h)
    y = p["V_1_1"] * h[0] + p["V_1_2"] * h[1] + p["c"]
    return hs, y, 0.5 * (y - TARGET) ** 2


def gradient(p, first_step):
    """BPTT carrying the deltas back to step first_step only."""
    hs, y, _ = run(p)
    w = [[p["W_1_1"], p["W_1_2"]], [p["W_2_1"], p["W_2_2"]]]
    d_y = y - TARGET
    g = [p["V_1_1"] * d_y, p["V_1_2"] * d_y]
    grad = dict.fromkeys(NAMES, 0.0)
    grad["V_1_1"], grad["V_1_2"], grad["c"] = d_y * hs[4][0], d_y * hs[4][1], d_y
    deltas = {}
    for t in range(len(XS), first_step - 1, -1):
        d = [(1 - hs[t][j] ** 2) * g[j] for j in (0, 1)]
        deltas[t] = d
        for j in (0, 1):
            for m in (0, 1):
                grad[f"W_{j + 1}_{m + 1}"] += d[j] * hs[t - 1][m]
            grad[f"U_{j + 1}_1"] += d[j] * XS[t - 1]
            grad[f"b_{j + 1}"] += d[j]
        g = [w[0][m] * d[0] + w[1][m] * d[1] for m in (0, 1)]
    return grad, deltas, d_y


P = pack()
hs, y, E = run(P)
true, true_deltas, d_y = gradient(P, 1)
truncated, deltas, _ = gradient(P, len(XS) - K + 1)

h = 1e-6
for name in NAMES:
    up, down = dict(P), dict(P)
    up[name] += h
    down[name] -= h
    fd = (run(up)[2] - run(down)[2]) / (2 * h)
    assert abs(fd - true[name]) <= 1e-6 * max(1.0, abs(true[name])), name
    held = (len(XS) - K, hs[len(XS) - K])          # h_2 detached
    fd_cut = (run(up, held)[2] - run(down, held)[2]) / (2 * h)
    assert abs(fd_cut - truncated[name]) <= 1e-6 * max(1.0, abs(truncated[name])), name

out = {"loss.value": E, "forward.y_4.out": y, "deltas.y_4.value": d_y}
for t in range(1, len(XS) + 1):
    for j in (1, 2):
        out[f"forward.h_{t}_{j}.out"] = hs[t][j - 1]
        out[f"deltas.h_{t}_{j}.value"] = deltas.get(t, [0.0, 0.0])[j - 1]
        out[f"variant.true_delta_values.h_{t}_{j}"] = true_deltas[t][j - 1]
for name in NAMES:
    out[f"gradients.{name}.value"] = truncated[name]
    out[f"variant.true_gradient_values.{name}"] = true[name]
print(json.dumps(out, indent=2))

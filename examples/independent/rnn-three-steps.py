"""Independent figures for examples/rnn-three-steps.yaml.

Stdlib only; does not use symbackprop.  A one-unit tanh RNN over T = 3 steps with shared
W, U, V, b, c, h_0 = 0 and a loss at every step:
    net_h_t = W*h_{t-1} + U*x_t + b,   h_t = tanh(net_h_t)
    y_t     = V*h_t + c                (identity output)
    E       = 1/2 * sum_t (y_t - t_t)**2
Backpropagation through time, derived by hand:
    delta_y_t = y_t - t_t
    delta_h_t = (1 - h_t**2) * (V*delta_y_t + W*delta_h_{t+1})     (delta_h_{T+1} = 0)
    dE/dW = sum_t delta_h_t * h_{t-1}    dE/dU = sum_t delta_h_t * x_t    dE/db = sum_t delta_h_t
    dE/dV = sum_t delta_y_t * h_t        dE/dc = sum_t delta_y_t
One gradient step with eta = 0.1 and the loss after it.  Cross-checked against central
finite differences (h = 1e-6) before printing.
"""
import json
import math

P = {"W": 0.8, "U": 0.5, "V": 1.2, "b": 0.1, "c": -0.2}
XS = [1.0, -0.5, 0.25]
TS = [0.4, -0.1, 0.3]
ETA = 0.1


def forward(p):
    h, nets, hs, ys = 0.0, [], [0.0], []
    for x in XS:
        net = p["W"] * h + p["U"] * x + p["b"]
        h = math.tanh(net)
        nets.append(net)
        hs.append(h)
        ys.append(p["V"] * h + p["c"])
    E = 0.5 * sum((y - t) ** 2 for y, t in zip(ys, TS))
    return nets, hs, ys, E


nets, hs, ys, E = forward(P)
T = len(XS)
d_y = [y - t for y, t in zip(ys, TS)]
d_h = [0.0] * (T + 1)
for t in range(T - 1, -1, -1):
    later = P["W"] * d_h[t + 1] if t + 1 < T else 0.0
    d_h[t] = (1 - hs[t + 1] ** 2) * (P["V"] * d_y[t] + later)
grad = {"W": sum(d_h[t] * hs[t] for t in range(T)), "U": sum(d_h[t] * XS[t] for t in range(T)),
        "b": sum(d_h[:T]), "V": sum(d_y[t] * hs[t + 1] for t in range(T)), "c": sum(d_y)}

h = 1e-6
for name in P:
    up, down = dict(P), dict(P)
    up[name] += h
    down[name] -= h
    fd = (forward(up)[3] - forward(down)[3]) / (2 * h)
    assert abs(fd - grad[name]) <= 1e-6 * max(1.0, abs(grad[name])), name

new = {k: v - ETA * grad[k] for k, v in P.items()}
out = {"loss.value": E}
for t in range(T):
    out[f"forward.h_{t + 1}.net"] = nets[t]
    out[f"forward.h_{t + 1}.out"] = hs[t + 1]
    out[f"forward.y_{t + 1}.out"] = ys[t]
    out[f"deltas.h_{t + 1}.value"] = d_h[t]
    out[f"deltas.y_{t + 1}.value"] = d_y[t]
for k in P:
    out[f"gradients.{k}.value"] = grad[k]
    out[f"updated_params.{k}"] = new[k]
out["loss_after_update"] = forward(new)[3]
print(json.dumps(out, indent=2))

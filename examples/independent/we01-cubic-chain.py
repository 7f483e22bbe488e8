"""Independent figures for examples/we01-cubic-chain.yaml (WE-1).

Stdlib only; does not use symbackprop.  Hand-written forward pass and
hand-derived chain-rule gradients (the lecture's own formula), cross-checked
against central finite differences (h = 1e-6) before printing.

Network: x -> h -> o, one weight each, cubic activations, E = (out_o - t_o)**2.
    net_h = w1*x,      out_h = net_h**3
    net_o = w2*out_h,  out_o = net_o**3
    E     = (out_o - t_o)**2                     (no 1/2)
Backward (delta = dE/dnet):
    delta_o = dE/dout_o * f'(net_o) = 2*(out_o - t_o) * 3*net_o**2
    delta_h = delta_o * w2 * 3*net_h**2
    dE/dw2  = delta_o * out_h
    dE/dw1  = delta_h * x
            = 2(out_o - t)*3 net_o^2 * w2 * 3 net_h^2 * x     (lecture's chain)
Expanded (lecture): dE/dw1 = 18 (w2^3 w1^9 x^9 - t) w2^3 w1^8 x^9.
"""
import json

X, W1, W2, T = 0.5, 0.8, 1.1, 0.3


def forward(w1, w2):
    net_h = w1 * X
    out_h = net_h ** 3
    net_o = w2 * out_h
    out_o = net_o ** 3
    E = (out_o - T) ** 2
    return net_h, out_h, net_o, out_o, E


net_h, out_h, net_o, out_o, E = forward(W1, W2)
delta_o = 2 * (out_o - T) * 3 * net_o ** 2
delta_h = delta_o * W2 * 3 * net_h ** 2
g_w2 = delta_o * out_h
g_w1 = delta_h * X

# the lecture's fully expanded form must agree with the chain
g_w1_expanded = 18 * (W2 ** 3 * W1 ** 9 * X ** 9 - T) * W2 ** 3 * W1 ** 8 * X ** 9
assert abs(g_w1 - g_w1_expanded) <= 1e-12 * max(1.0, abs(g_w1))

# cross-check with central finite differences
h = 1e-6
fd_w1 = (forward(W1 + h, W2)[4] - forward(W1 - h, W2)[4]) / (2 * h)
fd_w2 = (forward(W1, W2 + h)[4] - forward(W1, W2 - h)[4]) / (2 * h)
assert abs(fd_w1 - g_w1) <= 1e-6 * max(1.0, abs(g_w1))
assert abs(fd_w2 - g_w2) <= 1e-6 * max(1.0, abs(g_w2))

print(json.dumps({
    "forward.h.net": net_h,
    "forward.h.out": out_h,
    "forward.o.net": net_o,
    "forward.o.out": out_o,
    "loss.value": E,
    "deltas.o.value": delta_o,
    "deltas.h.value": delta_h,
    "gradients.w1.value": g_w1,
    "gradients.w2.value": g_w2,
}, indent=2))

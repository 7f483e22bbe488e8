"""Independent figures for examples/conv1d-maxpool.yaml.

Stdlib only; does not use symbackprop.  Six inputs x_1..x_6, a kernel (k_1, k_2, k_3) and
bias b1 (valid convolution, stride 1: four positions), ReLU, max-pooling over the pairs
(c_1, c_2) and (c_3, c_4), and one linear output:
    net_c_p = sum_j k_j x_{p+j-1} + b1,   c_p = relu(net_c_p)
    p_1 = max(c_1, c_2),   p_2 = max(c_3, c_4)
    y = w_1 p_1 + w_2 p_2 + b4,   E = 1/2 (y - t)**2
Backward, hand-derived: delta_y = y - t; delta_p_i = w_i delta_y; the max hands delta_p to
its larger argument only; delta_c_p = [net_c_p > 0] * (that share);
    dE/dk_j = sum_p delta_c_p x_{p+j-1}  (the sum over the four positions),  dE/db1 = sum_p delta_c_p.
No value sits at a tie or at a ReLU kink here; central finite differences (h = 1e-6) agree.
"""
import json

X = [0.5, -1.0, 2.0, 0.3, -0.7, 1.2]
K = [0.4, -0.2, 0.6]
B1 = 0.1
W = [0.8, -0.5]
B4 = 0.05
T = 0.6


def forward(k, b1, w, b4):
    nets = [sum(k[j] * X[p + j] for j in range(3)) + b1 for p in range(4)]
    c = [max(n, 0.0) for n in nets]
    pools = [max(c[0], c[1]), max(c[2], c[3])]
    y = w[0] * pools[0] + w[1] * pools[1] + b4
    return nets, c, pools, y, 0.5 * (y - T) ** 2


nets, c, pools, y, E = forward(K, B1, W, B4)
assert c[0] != c[1] and c[2] != c[3] and all(abs(n) > 1e-3 for n in nets)
d_y = y - T
d_p = [W[0] * d_y, W[1] * d_y]
d_c = [0.0] * 4
for i, (a, b) in enumerate(((0, 1), (2, 3))):
    d_c[a if c[a] > c[b] else b] = d_p[i]
d_c = [d if nets[p] > 0 else 0.0 for p, d in enumerate(d_c)]
grad = {f"k1_{j + 1}": sum(d_c[p] * X[p + j] for p in range(4)) for j in range(3)}
grad.update({"b1": sum(d_c), "w4_1_1": d_y * pools[0], "w4_1_2": d_y * pools[1], "b4_1": d_y})

h = 1e-6


def loss_at(name, delta):
    k, b1, w, b4 = list(K), B1, list(W), B4
    if name.startswith("k1_"):
        k[int(name[-1]) - 1] += delta
    elif name == "b1":
        b1 += delta
    elif name.startswith("w4_"):
        w[int(name[-1]) - 1] += delta
    else:
        b4 += delta
    return forward(k, b1, w, b4)[4]


for name, g in grad.items():
    fd = (loss_at(name, h) - loss_at(name, -h)) / (2 * h)
    assert abs(fd - g) <= 1e-6 * max(1.0, abs(g)), name

out = {"loss.value": E, "forward.y_1.out": y, "deltas.y_1.value": d_y}
for p in range(4):
    out[f"forward.c1_{p + 1}.net"] = nets[p]
    out[f"deltas.c1_{p + 1}.value"] = d_c[p]
for i in range(2):
    out[f"forward.p2_{i + 1}.value"] = pools[i]
    out[f"deltas.p2_{i + 1}.value"] = d_p[i]
for name, g in grad.items():
    out[f"gradients.{name}.value"] = g
print(json.dumps(out, indent=2))

"""Independent figures for examples/conv2d-4x4.yaml.

Stdlib only; does not use symbackprop.  A 4x4 input, a 2x2 kernel k and bias b1 (valid
convolution, stride 1: a 3x3 map), sigmoid, the average over the whole map, squared error:
    net_c_rs = sum_{i,j} k_ij x_{r+i-1, s+j-1} + b1,   c_rs = sigmoid(net_c_rs)
    p = (1/9) sum_rs c_rs,   E = 1/2 (p - t)**2
Backward, hand-derived: delta_p = p - t; delta_c_rs = c_rs (1 - c_rs) delta_p / 9;
    dE/dk_ij = sum_rs delta_c_rs x_{r+i-1, s+j-1}  (nine positions per kernel entry),
    dE/db1 = sum_rs delta_c_rs.
Cross-checked against central finite differences (h = 1e-6).
"""
import json
import math

X = [[0.2, -0.5, 1.0, 0.3], [0.7, 0.1, -0.4, 0.9], [-0.6, 0.8, 0.5, -0.2], [0.4, -0.3, 0.6, 0.1]]
K = [[0.5, -0.4], [0.3, 0.8]]
B1 = -0.1
T = 0.7


def forward(k, b1):
    nets = [[sum(k[i][j] * X[r + i][s + j] for i in range(2) for j in range(2)) + b1 for s in range(3)]
            for r in range(3)]
    c = [[1 / (1 + math.exp(-n)) for n in row] for row in nets]
    p = sum(sum(row) for row in c) / 9
    return nets, c, p, 0.5 * (p - T) ** 2


nets, c, p, E = forward(K, B1)
d_p = p - T
d_c = [[c[r][s] * (1 - c[r][s]) * d_p / 9 for s in range(3)] for r in range(3)]
grad = {f"k1_{i + 1}_{j + 1}": sum(d_c[r][s] * X[r + i][s + j] for r in range(3) for s in range(3))
        for i in range(2) for j in range(2)}
grad["b1"] = sum(sum(row) for row in d_c)

h = 1e-6
for name, g in grad.items():
    k_up, k_down, b_up, b_down = [r[:] for r in K], [r[:] for r in K], B1, B1
    if name == "b1":
        b_up, b_down = B1 + h, B1 - h
    else:
        i, j = int(name[3]) - 1, int(name[5]) - 1
        k_up[i][j] += h
        k_down[i][j] -= h
    fd = (forward(k_up, b_up)[3] - forward(k_down, b_down)[3]) / (2 * h)
    assert abs(fd - g) <= 1e-6 * max(1.0, abs(g)), name

out = {"loss.value": E, "forward.p2_1_1.value": p, "deltas.p2_1_1.value": d_p}
for r in range(3):
    for s in range(3):
        out[f"forward.c1_{r + 1}_{s + 1}.net"] = nets[r][s]
        out[f"forward.c1_{r + 1}_{s + 1}.out"] = c[r][s]
        out[f"deltas.c1_{r + 1}_{s + 1}.value"] = d_c[r][s]
for name, g in grad.items():
    out[f"gradients.{name}.value"] = g
print(json.dumps(out, indent=2))

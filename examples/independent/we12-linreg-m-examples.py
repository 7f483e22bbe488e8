"""Independent figures for examples/we12-linreg-m-examples.yaml (WE-12).

Stdlib only; does not use symbackprop.  One identity neuron y = w1*x (no bias),
    L = 1/(2m) sum_i (t_i - w1 x_i)**2,   m = 3, reduction mean
    dL/dw1 = 1/m sum_i (-x_i)(t_i - w1 x_i)                       (lecture)
    delta_y__i = dL/dnet_y__i = -(1/m)(t_i - out_y__i)   (includes the 1/m)
One gradient-descent step with learning rate 0.1, then L again.
Cross-checked against a central finite difference (h = 1e-6).
"""
import json

DATA = [(1.0, 2.0), (2.0, 3.5), (3.0, 7.0)]     # (x, t_y)
W1 = 1.5
ETA = 0.1
m = len(DATA)


def loss(w1):
    return sum((t - w1 * x) ** 2 for x, t in DATA) / (2 * m)


out = [W1 * x for x, t in DATA]
L = loss(W1)
g = sum(-x * (t - W1 * x) for x, t in DATA) / m
delta = [-(t - o) / m for (x, t), o in zip(DATA, out)]
h = 1e-6
assert abs((loss(W1 + h) - loss(W1 - h)) / (2 * h) - g) <= 1e-6 * max(1.0, abs(g))
w1_new = W1 - ETA * g

res = {"forward.y.net": out, "forward.y.out": out, "loss.value": L}
for i in range(m):
    res[f"deltas.y__{i + 1}.value"] = delta[i]
res["gradients.w1.value"] = g
res["updated_params.w1"] = w1_new
res["loss_after_update"] = loss(w1_new)
res["forward_after_update.y.out"] = [w1_new * x for x, t in DATA]
print(json.dumps(res, indent=2))

"""Independent figures for examples/batchnorm-3.yaml (batch normalisation over 3 examples).

Stdlib only; does not use symbackprop.  Per example n: h_n = tanh(w x_n + b); over the batch
mu = (1/m) sum h_n, var = (1/m) sum (h_n - mu)^2 (biased, as in training); per example
z_n = g (h_n - mu)/sqrt(var + eps) + be,  o_n = sigmoid(v z_n + c),  E = sum_n (t_n - o_n)^2 / 2.
Backward by the batch-norm formulas (Ioffe & Szegedy 2015), with s = sqrt(var + eps):
    dz_n  = (o_n - t_n) o_n (1 - o_n) v,     dg = sum dz_n (h_n - mu)/s,   dbe = sum dz_n
    dvar  = sum dz_n g (h_n - mu) (-1/2) (var + eps)^(-3/2)
    dmu   = sum dz_n g (-1/s) + dvar (1/m) sum -2 (h_n - mu)
    dh_n  = dz_n g / s + dvar 2 (h_n - mu)/m + dmu / m
    dnet_h_n = dh_n (1 - h_n^2);  dw = sum dnet_h_n x_n,  db = sum dnet_h_n
Cross-checked against central finite differences (h = 1e-6).
"""
import json
import math

DATA = [(0.5, 1.0), (-1.0, 0.0), (2.0, 1.0)]
P0 = {"w": 0.8, "b": 0.1, "v": 1.2, "c": -0.1, "g": 1.5, "be": 0.2}
EPS = 0.001


def forward(p):
    h = [math.tanh(p["w"] * x + p["b"]) for x, _ in DATA]
    m = len(h)
    mu = sum(h) / m
    var = sum((hn - mu) ** 2 for hn in h) / m
    z = [p["g"] * (hn - mu) / math.sqrt(var + EPS) + p["be"] for hn in h]
    o = [1 / (1 + math.exp(-(p["v"] * zn + p["c"]))) for zn in z]
    E = sum((t - on) ** 2 / 2 for (_, t), on in zip(DATA, o))
    return h, mu, var, z, o, E


h, mu, var, z, o, E = forward(P0)
m, s = len(DATA), math.sqrt(var + EPS)
d_o = [(on - t) * on * (1 - on) for (_, t), on in zip(DATA, o)]
d_z = [dn * P0["v"] for dn in d_o]
d_var = sum(dz * P0["g"] * (hn - mu) * -0.5 * (var + EPS) ** -1.5 for dz, hn in zip(d_z, h))
d_mu = sum(dz * P0["g"] * -1 / s for dz in d_z) + d_var * sum(-2 * (hn - mu) for hn in h) / m
d_h = [dz * P0["g"] / s + d_var * 2 * (hn - mu) / m + d_mu / m for dz, hn in zip(d_z, h)]
d_neth = [dh * (1 - hn ** 2) for dh, hn in zip(d_h, h)]
g = {"w": sum(dn * x for dn, (x, _) in zip(d_neth, DATA)), "b": sum(d_neth),
     "v": sum(dn * zn for dn, zn in zip(d_o, z)), "c": sum(d_o),
     "g": sum(dz * (hn - mu) / s for dz, hn in zip(d_z, h)), "be": sum(d_z)}
for k in P0:
    up, down = dict(P0), dict(P0)
    up[k] += 1e-6
    down[k] -= 1e-6
    fd = (forward(up)[-1] - forward(down)[-1]) / 2e-6
    assert abs(fd - g[k]) <= 1e-6 * max(1.0, abs(g[k])), k

res = {"forward.h.out": h, "forward.z.value": z, "forward.z.mean": mu, "forward.z.variance": var,
       "forward.o.out": o, "loss.value": E, "deltas.var_z.value": d_var, "deltas.mu_z.value": d_mu}
res.update({f"deltas.z__{n + 1}.value": d_z[n] for n in range(m)})
res.update({f"deltas.h__{n + 1}.value": d_neth[n] for n in range(m)})
res.update({f"gradients.{k}.value": v for k, v in g.items()})
print(json.dumps(res, indent=2))

"""Independent figures for examples/we03-three-formulas.yaml (WE-3).

Stdlib only; does not use symbackprop.  Hand-written forward pass and the
three backprop formulas of WE-3 written out by hand, cross-checked against
central finite differences (h = 1e-6).

    d = sigmoid(w1*x1 + w5*x2)            node d has three outgoing edges
    a = (w2*d)**2                         quadratic activation, f'(net) = 2*net
    b = tanh(w3*d + w6*x2)                f' = 1 - out**2
    c = sigmoid(w4*d)                     f' = out*(1 - out)
    o = w7*a + w8*b + w9*c + b_o          identity output
    E = 1/2 * (t_o - out_o)**2
Base case: dE/dout_o = out_o - t_o, and with identity delta_o = out_o - t_o.
Formula 1: dE/dout_d = w2*delta_a + w3*delta_b + w4*delta_c
Formula 2: delta_j = dE/dout_j * f'(net_j)
Formula 3: dE/dw = delta_(target of w) * (input along w)
"""
import json
import math

X = {"x1": 0.6, "x2": -0.4}
P0 = {"w1": 0.9, "w5": -0.5, "w2": 1.2, "w3": -0.7, "w6": 0.4, "w4": 0.5,
      "w7": 0.8, "w8": -1.1, "w9": 0.6, "b_o": 0.1}
T = 1.5


def sig(v):
    return 1.0 / (1.0 + math.exp(-v))


def forward(p):
    f = {}
    f["d"] = (p["w1"] * X["x1"] + p["w5"] * X["x2"],)
    f["d"] += (sig(f["d"][0]),)
    od = f["d"][1]
    f["a"] = (p["w2"] * od,)
    f["a"] += (f["a"][0] ** 2,)
    f["b"] = (p["w3"] * od + p["w6"] * X["x2"],)
    f["b"] += (math.tanh(f["b"][0]),)
    f["c"] = (p["w4"] * od,)
    f["c"] += (sig(f["c"][0]),)
    f["o"] = (p["w7"] * f["a"][1] + p["w8"] * f["b"][1] + p["w9"] * f["c"][1] + p["b_o"],)
    f["o"] += (f["o"][0],)
    E = 0.5 * (T - f["o"][1]) ** 2
    return f, E


f, E = forward(P0)
out = {k: v[1] for k, v in f.items()}
net = {k: v[0] for k, v in f.items()}

d = {}
d["o"] = out["o"] - T                                      # base case
d["a"] = d["o"] * P0["w7"] * 2 * net["a"]                  # quadratic: 2*net
d["b"] = d["o"] * P0["w8"] * (1 - out["b"] ** 2)           # tanh: 1 - out^2
d["c"] = d["o"] * P0["w9"] * out["c"] * (1 - out["c"])     # sigmoid: out(1 - out)
dE_dout_d = P0["w2"] * d["a"] + P0["w3"] * d["b"] + P0["w4"] * d["c"]   # formula 1
d["d"] = dE_dout_d * out["d"] * (1 - out["d"])             # formula 2

g = {                                                     # formula 3
    "w1": d["d"] * X["x1"], "w5": d["d"] * X["x2"],
    "w2": d["a"] * out["d"], "w3": d["b"] * out["d"], "w6": d["b"] * X["x2"],
    "w4": d["c"] * out["d"],
    "w7": d["o"] * out["a"], "w8": d["o"] * out["b"], "w9": d["o"] * out["c"],
    "b_o": d["o"],
}

h = 1e-6
for k in P0:
    pp, pm = dict(P0), dict(P0)
    pp[k] += h
    pm[k] -= h
    fd = (forward(pp)[1] - forward(pm)[1]) / (2 * h)
    assert abs(fd - g[k]) <= 1e-6 * max(1.0, abs(g[k])), k

res = {}
for k in ["d", "a", "b", "c", "o"]:
    res[f"forward.{k}.net"] = net[k]
    res[f"forward.{k}.out"] = out[k]
res["loss.value"] = E
for k in ["o", "a", "b", "c", "d"]:
    res[f"deltas.{k}.value"] = d[k]
for k in ["w1", "w5", "w2", "w3", "w6", "w4", "w7", "w8", "w9", "b_o"]:
    res[f"gradients.{k}.value"] = g[k]
res["gradients.w1.path_count"] = 3
print(json.dumps(res, indent=2))

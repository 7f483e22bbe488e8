"""Tests of the test oracle (tests/reference.py) against facts that do not come from it.

The facts are the lectures' exact figures (docs: /work/shared/worked-examples.md, WE-n),
closed-form derivatives written out by hand here, and agreement between two unrelated
gradient methods (central finite differences and torch.autograd).
"""

from __future__ import annotations

import copy
import json
import math

import pytest

try:  # works whether or not tests/ becomes a package
    from . import reference as ref
except ImportError:  # pragma: no cover
    import reference as ref

SIX_DP = 5.1e-7  # a figure printed to 6 decimal places


def _gradient_methods():
    return [
        pytest.param(ref.finite_difference_gradient, id="finite-differences"),
        pytest.param(_torch_gradient, id="torch"),
    ]


def _torch_gradient(spec, point):
    pytest.importorskip("torch")
    return ref.torch_gradient(spec, point)


# --------------------------------------------------------------------------- WE-5

WE5 = {
    "name": "we5",
    "inputs": ["A", "B"],
    "neurons": {
        "T": {"from": {"A": "w_AT", "B": "w_BT"}, "activation": "sigmoid"},
        "Bo": {"from": {"A": "w_AB", "B": "w_BB"}, "activation": "sigmoid"},
        "F": {"from": {"T": "w_TF", "Bo": "w_BF"}, "activation": "sigmoid"},
    },
    "outputs": ["F"],
    "loss": "half_sse",
    "values": {
        "inputs": {"A": 0.35, "B": 0.9},
        "params": {"w_AT": 0.1, "w_BT": 0.8, "w_AB": 0.4, "w_BB": 0.6, "w_TF": 0.3, "w_BF": 0.9},
        "targets": {"F": 0.5},
    },
    "learning_rate": 1,
}
WE5_POINT = dict(WE5["values"]["params"])


def test_we5_forward_pass_and_loss():
    fwd = ref.forward_values(WE5, WE5_POINT)
    assert fwd["T"]["net"] == pytest.approx(0.755000, abs=SIX_DP)
    assert fwd["T"]["out"] == pytest.approx(0.680267, abs=SIX_DP)
    assert fwd["Bo"]["net"] == pytest.approx(0.680000, abs=SIX_DP)
    assert fwd["Bo"]["out"] == pytest.approx(0.663739, abs=SIX_DP)
    assert fwd["F"]["net"] == pytest.approx(0.801445, abs=SIX_DP)
    assert fwd["F"]["out"] == pytest.approx(0.690283, abs=SIX_DP)
    assert ref.total_loss(WE5, WE5_POINT) == pytest.approx(0.018104, abs=SIX_DP)


@pytest.mark.parametrize("gradient", _gradient_methods())
def test_we5_gradients_and_update(gradient):
    g = gradient(WE5, WE5_POINT)
    out_T, out_B, A, B = 0.680267, 0.663739, 0.35, 0.9
    # dE/dw_TF = delta_F * out_T with delta_F = 0.040681
    assert g["w_TF"] == pytest.approx(0.040681 * 0.680267, abs=1e-6)
    assert g["w_TF"] / out_T == pytest.approx(0.040681, abs=SIX_DP)
    assert g["w_BF"] / out_B == pytest.approx(0.040681, abs=SIX_DP)
    # dE/dw_AT = delta_T * A with delta_T = 0.002654 (old output weights: the gradient)
    assert g["w_AT"] / A == pytest.approx(0.002654, abs=SIX_DP)
    assert g["w_BT"] / B == pytest.approx(0.002654, abs=SIX_DP)
    assert g["w_AB"] / A == pytest.approx(0.008172, abs=SIX_DP)
    assert g["w_BB"] / B == pytest.approx(0.008172, abs=SIX_DP)
    # one step with eta = 1
    new = {name: WE5_POINT[name] - g[name] for name in WE5_POINT}
    assert 0.3 - 0.0276741 == pytest.approx(0.272326, abs=SIX_DP)
    assert new["w_TF"] == pytest.approx(0.272326, abs=SIX_DP)
    assert new["w_BF"] == pytest.approx(0.872998, abs=SIX_DP)
    assert new["w_AT"] == pytest.approx(0.099071, abs=SIX_DP)
    assert new["w_BT"] == pytest.approx(0.797611, abs=SIX_DP)
    assert new["w_AB"] == pytest.approx(0.397140, abs=SIX_DP)
    assert new["w_BB"] == pytest.approx(0.592646, abs=SIX_DP)
    # second forward pass
    fwd = ref.forward_values(WE5, new)
    assert fwd["T"]["net"] == pytest.approx(0.752525, abs=SIX_DP)
    assert fwd["Bo"]["net"] == pytest.approx(0.672380, abs=SIX_DP)
    assert fwd["T"]["out"] == pytest.approx(0.679729, abs=SIX_DP)
    assert fwd["Bo"]["out"] == pytest.approx(0.662036, abs=SIX_DP)
    assert fwd["F"]["net"] == pytest.approx(0.763064, abs=SIX_DP)
    assert fwd["F"]["out"] == pytest.approx(0.682019, abs=SIX_DP)
    assert ref.total_loss(WE5, new) == pytest.approx(0.016565, abs=SIX_DP)


def test_load_yaml_and_json(tmp_path):
    yaml_text = """
name: we5
inputs: [A, B]
neurons:
  T: {from: {A: w_AT, B: w_BT}, activation: sigmoid}
  Bo: {from: {A: w_AB, B: w_BB}, activation: sigmoid}
  F: {from: {T: w_TF, Bo: w_BF}, activation: sigmoid}
outputs: [F]
loss: half_sse
values:
  inputs: {A: 0.35, B: 0.9}
  params: {w_AT: 0.1, w_BT: 0.8, w_AB: 0.4, w_BB: 0.6, w_TF: 0.3, w_BF: 0.9}
  targets: {F: 0.5}
learning_rate: 1
"""
    (tmp_path / "we5.yaml").write_text(yaml_text, encoding="utf-8")
    (tmp_path / "we5.json").write_text(json.dumps(WE5), encoding="utf-8")
    assert ref.load(tmp_path / "we5.yaml") == WE5
    assert ref.load(tmp_path / "we5.json") == WE5
    # parameters default to values.params when the point omits them
    assert ref.total_loss(ref.load(tmp_path / "we5.yaml"), {}) == pytest.approx(0.018104, abs=SIX_DP)


# --------------------------------------------------------------------------- WE-6

WE6 = copy.deepcopy(WE5)
WE6["values"] = {
    "inputs": {"A": 0.1, "B": 0.7},
    "params": {"w_AT": 0.1, "w_BT": 0.5, "w_AB": 0.3, "w_BB": 0.2, "w_TF": 0.2, "w_BF": 0.1},
    "targets": {"F": 1},
}


@pytest.mark.parametrize("gradient", _gradient_methods())
def test_we6_eta_two(gradient):
    point = dict(WE6["values"]["params"])
    fwd = ref.forward_values(WE6, point)
    assert fwd["T"]["net"] == pytest.approx(0.36, abs=SIX_DP)
    assert fwd["T"]["out"] == pytest.approx(0.589040, abs=SIX_DP)
    assert fwd["Bo"]["out"] == pytest.approx(0.542398, abs=SIX_DP)
    assert fwd["F"]["net"] == pytest.approx(0.172048, abs=SIX_DP)
    assert fwd["F"]["out"] == pytest.approx(0.542906, abs=SIX_DP)
    assert ref.total_loss(WE6, point) == pytest.approx(0.104467, abs=SIX_DP)
    g = gradient(WE6, point)
    assert g["w_TF"] / fwd["T"]["out"] == pytest.approx(-0.113432, abs=SIX_DP)
    assert g["w_AT"] / 0.1 == pytest.approx(-0.005492, abs=SIX_DP)
    assert g["w_BB"] / 0.7 == pytest.approx(-0.002815, abs=SIX_DP)
    new = {name: point[name] - 2 * g[name] for name in point}
    expected = {"w_TF": 0.333632, "w_BF": 0.223051, "w_AT": 0.101098, "w_BT": 0.507688,
                "w_AB": 0.300563, "w_BB": 0.203942}
    for name, value in expected.items():
        assert new[name] == pytest.approx(value, abs=SIX_DP), name
    assert ref.forward_values(WE6, new)["F"]["out"] == pytest.approx(0.578862, abs=SIX_DP)
    assert ref.total_loss(WE6, new) == pytest.approx(0.088679, abs=SIX_DP)


# --------------------------------------------------------------------------- WE-8, WE-12

WE8 = {
    "name": "we8",
    "inputs": ["x1", "x2"],
    "neurons": {"z": {"from": {"x1": "w1", "x2": "w2"}, "bias": "b", "activation": "identity"}},
    "outputs": ["z"],
    "loss": "half_sse",  # J = 1/(2N) sum (t - z)^2 is half_sse with the mean over examples
    "data": [{"inputs": {"x1": 1, "x2": 0}, "targets": {"z": 2}}],
    "reduction": "mean",
    "values": {"params": {"w1": 1, "w2": 0, "b": 2}},
}


@pytest.mark.parametrize("gradient", _gradient_methods())
def test_we8_linear_regression(gradient):
    point = {"w1": 1.0, "w2": 0.0, "b": 2.0}
    assert ref.forward_values(WE8, point)["z"]["out"] == pytest.approx(3.0)
    assert ref.total_loss(WE8, point) == pytest.approx(0.5)
    g = gradient(WE8, point)
    assert g == pytest.approx({"w1": 1.0, "w2": 0.0, "b": 1.0}, abs=1e-8)
    rate = 0.5
    assert point["w1"] - rate * g["w1"] == pytest.approx(0.5, abs=1e-8)
    assert point["w2"] - rate * g["w2"] == pytest.approx(0.0, abs=1e-8)
    assert point["b"] - rate * g["b"] == pytest.approx(1.5, abs=1e-8)


@pytest.mark.parametrize("gradient", _gradient_methods())
def test_we12_loss_over_m_examples(gradient):
    xs, ys, w = [0.5, -1.2, 2.0], [1.0, -2.0, 3.5], 1.3
    spec = {
        "name": "we12",
        "inputs": ["x"],
        "neurons": {"f": {"from": {"x": "w1"}, "activation": "identity"}},
        "outputs": ["f"],
        "loss": "(t_f - out_f)**2 / 2",
        "data": [{"inputs": {"x": x}, "targets": {"f": y}} for x, y in zip(xs, ys)],
        "reduction": "mean",
    }
    m = len(xs)
    loss = sum((y - w * x) ** 2 for x, y in zip(xs, ys)) / (2 * m)
    dloss = sum(-x * (y - w * x) for x, y in zip(xs, ys)) / m
    assert ref.total_loss(spec, {"w1": w}) == pytest.approx(loss, rel=1e-12)
    assert gradient(spec, {"w1": w})["w1"] == pytest.approx(dloss, rel=1e-7)


# --------------------------------------------------------------------------- WE-11

@pytest.mark.parametrize("gradient", _gradient_methods())
@pytest.mark.parametrize("name", ["L", "lambda", "λ"])
def test_we11_chain_rule_on_nodes(gradient, name):
    spec = {
        "name": "we11",
        "inputs": [name],
        "nodes": {"S": f"{name}**2 + 2", "P": "sqrt(S)"},
        "objective": "P",
        "wrt": [name],
        "values": {"inputs": {name: 1.5}},
    }
    L = 1.5
    assert ref.wrt_names(spec) == [name]
    assert ref.parameter_names(spec) == []
    fwd = ref.forward_values(spec, {})
    assert fwd["S"]["value"] == pytest.approx(L**2 + 2)
    assert fwd["P"]["value"] == pytest.approx(math.sqrt(L**2 + 2))
    assert ref.total_loss(spec, {}) == pytest.approx(math.sqrt(L**2 + 2))
    assert gradient(spec, {})[name] == pytest.approx(L / math.sqrt(L**2 + 2), rel=1e-7)
    # the point overrides the input value
    assert gradient(spec, {name: -0.7})[name] == pytest.approx(-0.7 / math.sqrt(0.49 + 2), rel=1e-7)


# --------------------------------------------------------------------------- WE-1

@pytest.mark.parametrize("gradient", _gradient_methods())
def test_we1_cubic_chain_expression_activation_and_loss(gradient):
    spec = {
        "name": "we1",
        "inputs": ["x"],
        "neurons": {
            "h": {"from": {"x": "w1"}, "activation": "x**3"},
            "o": {"from": {"h": "w2"}, "activation": "x**3"},
        },
        "outputs": ["o"],
        "loss": "(out_o - t_o)**2",
        "values": {"inputs": {"x": 0.9}, "targets": {"o": 0.3}},
    }
    x, t, w1, w2 = 0.9, 0.3, 1.1, 0.8
    a = (w1 * x) ** 9
    assert ref.total_loss(spec, {"w1": w1, "w2": w2}) == pytest.approx((w2**3 * a - t) ** 2)
    g = gradient(spec, {"w1": w1, "w2": w2})
    expected_w1 = 18 * (w2**3 * w1**9 * x**9 - t) * w2**3 * w1**8 * x**9
    expected_w2 = 2 * (w2**3 * a - t) * 3 * w2**2 * a
    assert g["w1"] == pytest.approx(expected_w1, rel=1e-7)
    assert g["w2"] == pytest.approx(expected_w2, rel=1e-7)


# --------------------------------------------------------------------------- WE-10

WE10 = {
    "name": "we10",
    "layers": [2, 2, 1],
    "activations": ["relu", "identity"],
    "loss": "half_sse",
    "values": {
        "inputs": {"x1": 1, "x2": 0},
        "params": {"w1_1_1": 1, "w1_1_2": 0, "w1_2_1": 0, "w1_2_2": 1, "w2_1_1": 1, "w2_1_2": 2},
        "targets": {"y1": 2},
    },
}


def test_we10_relu_forward():
    fwd = ref.forward_values(WE10, {})
    assert (fwd["h1_1"]["out"], fwd["h1_2"]["net"], fwd["h1_2"]["out"]) == (1.0, 0.0, 0.0)
    assert fwd["y1"]["out"] == 1.0
    assert ref.total_loss(WE10, {}) == 0.5


def test_we10_relu_torch_gradient_uses_zero_derivative_at_kink():
    pytest.importorskip("torch")
    g = ref.torch_gradient(WE10, {})
    assert g == {"w1_1_1": -1.0, "w1_1_2": 0.0, "w1_2_1": 0.0, "w1_2_2": 0.0,
                 "w2_1_1": -1.0, "w2_1_2": 0.0}


def test_we10_finite_difference_trap_at_the_kink():
    g = ref.finite_difference_gradient(WE10, {})
    assert g["w1_2_1"] == pytest.approx(-1.0, abs=1e-5)  # the analytic value is 0
    for name in ("w1_1_1", "w2_1_1"):
        assert g[name] == pytest.approx(-1.0, abs=1e-7)


# --------------------------------------------------------------------------- WE-7

@pytest.mark.parametrize("gradient", _gradient_methods())
@pytest.mark.parametrize("include_biases", [False, True])
def test_we7_sigmoid_bce_with_l2(gradient, include_biases):
    lam = 0.03
    spec = {
        "name": "we7-bce",
        "inputs": ["x1", "x2"],
        "neurons": {"p": {"from": {"x1": "w1", "x2": "w2"}, "bias": "b", "activation": "sigmoid"}},
        "outputs": ["p"],
        "loss": "bce",
        "regularization": {"l2": lam, "include_biases": include_biases},
        "values": {"inputs": {"x1": 0.4, "x2": -1.5}, "targets": {"p": 1}},
    }
    point = {"w1": 0.7, "w2": 0.2, "b": -0.1}
    net = 0.7 * 0.4 + 0.2 * -1.5 - 0.1
    p = 1 / (1 + math.exp(-net))
    reg = lam * (0.7**2 + 0.2**2 + (0.1**2 if include_biases else 0))
    assert ref.total_loss(spec, point) == pytest.approx(-math.log(p) + reg, rel=1e-12)
    g = gradient(spec, point)
    assert g["w1"] == pytest.approx((p - 1) * 0.4 + 2 * lam * 0.7, rel=1e-7)
    assert g["w2"] == pytest.approx((p - 1) * -1.5 + 2 * lam * 0.2, rel=1e-7)
    assert g["b"] == pytest.approx((p - 1) + (2 * lam * -0.1 if include_biases else 0), rel=1e-7)


@pytest.mark.parametrize("gradient", _gradient_methods())
def test_we7_softmax_cross_entropy_general_targets(gradient):
    spec = {
        "name": "we7-softmax",
        "layers": [2, 3],
        "activation": "softmax",
        "bias": True,
        "loss": "cross_entropy",
        "values": {"inputs": {"x1": 0.5, "x2": -1.0}, "targets": {"y1": 0.2, "y2": 0.5, "y3": 0.1}},
    }
    x = [0.5, -1.0]
    W = [[0.1, -0.3], [0.4, 0.2], [-0.5, 0.6]]
    b = [0.05, -0.1, 0.2]
    t = [0.2, 0.5, 0.1]  # sums to 0.8: the gradient is p_k * sum(t) - t_k, not p_k - t_k
    point = {f"w1_{k + 1}_{i + 1}": W[k][i] for k in range(3) for i in range(2)}
    point.update({f"b1_{k + 1}": b[k] for k in range(3)})
    nets = [sum(W[k][i] * x[i] for i in range(2)) + b[k] for k in range(3)]
    z = sum(math.exp(n) for n in nets)
    p = [math.exp(n) / z for n in nets]
    fwd = ref.forward_values(spec, point)
    assert [fwd[f"y{k}"]["out"] for k in (1, 2, 3)] == pytest.approx(p, rel=1e-12)
    assert ref.total_loss(spec, point) == pytest.approx(-sum(tk * math.log(pk) for tk, pk in zip(t, p)))
    g = gradient(spec, point)
    for k in range(3):
        delta = p[k] * sum(t) - t[k]
        assert g[f"b1_{k + 1}"] == pytest.approx(delta, rel=1e-6, abs=1e-9)
        for i in range(2):
            assert g[f"w1_{k + 1}_{i + 1}"] == pytest.approx(delta * x[i], rel=1e-6, abs=1e-9)


# --------------------------------------------------------------------------- semantics


def test_expand_layers_names():
    spec = {"name": "l", "layers": [2, 3, 2], "activations": ["tanh", "sigmoid"], "bias": True,
            "loss": "mse"}
    before = copy.deepcopy(spec)
    out = ref.expand_layers(spec)
    assert spec == before  # not mutated
    assert out["inputs"] == ["x1", "x2"]
    assert list(out["neurons"]) == ["h1_1", "h1_2", "h1_3", "y1", "y2"]
    assert out["outputs"] == ["y1", "y2"]
    assert out["neurons"]["h1_3"] == {"from": {"x1": "w1_3_1", "x2": "w1_3_2"},
                                      "activation": "tanh", "bias": "b1_3"}
    assert out["neurons"]["y2"] == {"from": {"h1_1": "w2_2_1", "h1_2": "w2_2_2", "h1_3": "w2_2_3"},
                                    "activation": "sigmoid", "bias": "b2_2"}
    for key in ("layers", "activation", "activations", "bias"):
        assert key not in out
    names = ref.parameter_names(spec)
    assert len(names) == 2 * 3 + 3 * 2 + 3 + 2 and names == sorted(names)
    # given inputs are used; a single activation; no bias
    out = ref.expand_layers({"name": "l", "layers": [2, 1], "inputs": ["A", "λ"], "activation": "relu"})
    assert out["neurons"] == {"y1": {"from": {"A": "w1_1_1", "λ": "w1_1_2"}, "activation": "relu"}}
    assert ref.expand_layers(WE5) == WE5


def test_parameter_names_and_wrt():
    spec = {
        "name": "p",
        "inputs": ["x"],
        "params": ["k"],
        "neurons": {"a": {"from": {"x": "w"}, "bias": "c", "activation": "tanh"},
                    "b": {"from": {"x": "w", "a": "v"}, "bias": "c", "activation": "tanh"}},
        "nodes": {"q": "k * b"},
        "objective": "q",
    }
    assert ref.parameter_names(spec) == ["c", "k", "v", "w"]
    assert ref.wrt_names(spec) == ["c", "k", "v", "w"]
    assert ref.wrt_names({**spec, "wrt": ["x", "w"]}) == ["x", "w"]


def test_mse_and_sse_definitions():
    spec = {"name": "m", "inputs": ["x"],
            "neurons": {"a": {"from": {"x": "u"}, "activation": "identity"},
                        "b": {"from": {"x": "v"}, "activation": "identity"}},
            "outputs": ["a", "b"], "loss": "mse",
            "values": {"inputs": {"x": 2}, "targets": {"a": 1, "b": -1}}}
    point = {"u": 0.3, "v": 0.4}
    sq = (1 - 0.6) ** 2 + (-1 - 0.8) ** 2
    assert ref.total_loss(spec, point) == pytest.approx(sq / 2)
    assert ref.total_loss({**spec, "loss": "sse"}, point) == pytest.approx(sq)
    assert ref.total_loss({**spec, "loss": "half_sse"}, point) == pytest.approx(sq / 2)
    # targets given in the point as t_<output>
    assert ref.total_loss({**spec, "loss": "sse"}, {**point, "t_a": 0.6}) == pytest.approx((-1 - 0.8) ** 2)


def test_leaky_relu_alpha_and_default():
    spec = {"name": "lr", "inputs": ["x"],
            "neurons": {"a": {"from": {"x": "w"}, "activation": "leaky_relu", "alpha": 0.1},
                        "b": {"from": {"x": "w"}, "activation": "leaky_relu"}},
            "outputs": ["a", "b"], "loss": "sse",
            "values": {"inputs": {"x": -2.0}, "targets": {"a": 0, "b": 0}}}
    fwd = ref.forward_values(spec, {"w": 1.5})
    assert fwd["a"]["out"] == pytest.approx(-0.3)
    assert fwd["b"]["out"] == pytest.approx(-0.03)
    fwd = ref.forward_values(spec, {"w": -1.5})
    assert fwd["a"]["out"] == fwd["b"]["out"] == pytest.approx(3.0)


def test_torch_derivatives_at_the_kinks():
    """relu'(0) = 0 and leaky_relu'(0) = alpha (docs/spec-reference.md), via torch."""
    pytest.importorskip("torch")
    spec = {"name": "kink", "inputs": ["x1", "x2"],
            "neurons": {"r": {"from": {"x1": "w1", "x2": "w2"}, "activation": "relu"},
                        "k": {"from": {"x1": "w3", "x2": "w4"}, "activation": "leaky_relu", "alpha": 0.25},
                        "o": {"from": {"r": "v1", "k": "v2"}, "activation": "identity"}},
            "outputs": ["o"], "loss": "half_sse",
            "values": {"inputs": {"x1": 1.0, "x2": 2.0}, "targets": {"o": 1.0}}}
    point = {"w1": 0.5, "w2": -0.25, "w3": -1.0, "w4": 0.5, "v1": 2.0, "v2": 4.0}  # both nets 0
    fwd = ref.forward_values(spec, point)
    assert fwd["r"]["net"] == fwd["k"]["net"] == 0.0 and fwd["o"]["out"] == 0.0
    g = ref.torch_gradient(spec, point)
    # dE/do = o - t = -1; dE/dw1 = -1 * v1 * relu'(0) * x1 = 0; dE/dw3 = -1 * v2 * alpha * x1
    assert g["w1"] == 0.0 and g["w2"] == 0.0
    assert g["w3"] == pytest.approx(-1.0 * 4.0 * 0.25 * 1.0)
    assert g["w4"] == pytest.approx(-1.0 * 4.0 * 0.25 * 2.0)


def test_stable_activations_far_out():
    spec = {"name": "s", "inputs": ["x"],
            "neurons": {"a": {"from": {"x": "w"}, "activation": "sigmoid"},
                        "b": {"from": {"x": "w"}, "activation": "softplus"}},
            "outputs": ["a", "b"], "loss": "sse",
            "values": {"inputs": {"x": 1000.0}, "targets": {"a": 0, "b": 0}}}
    fwd = ref.forward_values(spec, {"w": -1.0})
    assert fwd["a"]["out"] == pytest.approx(0.0, abs=1e-300)
    assert fwd["b"]["out"] == pytest.approx(0.0, abs=1e-300)
    fwd = ref.forward_values(spec, {"w": 1.0})
    assert fwd["a"]["out"] == 1.0 and fwd["b"]["out"] == pytest.approx(1000.0)


@pytest.mark.parametrize("gradient", _gradient_methods())
def test_shared_parameter_sums_over_its_uses(gradient):
    def spec(w_a, w_b, bias_a, bias_b):
        return {"name": "sh", "inputs": ["x1", "x2"],
                "neurons": {"h": {"from": {"x1": w_a, "x2": "u"}, "bias": bias_a, "activation": "tanh"},
                            "o": {"from": {"h": w_b, "x2": "v"}, "bias": bias_b, "activation": "sigmoid"}},
                "outputs": ["o"], "loss": "half_sse",
                "regularization": {"l2": 0.1, "include_biases": True},
                "values": {"inputs": {"x1": 0.8, "x2": -0.4}, "targets": {"o": 0.9}}}
    shared = spec("w", "w", "c", "c")
    split = spec("w_a", "w_b", "c_a", "c_b")
    assert ref.parameter_names(shared) == ["c", "u", "v", "w"]
    base = {"u": 0.3, "v": -0.6}
    gs = gradient(shared, {**base, "w": 0.5, "c": 0.2})
    gp = gradient(split, {**base, "w_a": 0.5, "w_b": 0.5, "c_a": 0.2, "c_b": 0.2})
    # The loss term sums over the uses; the L2 term counts the shared weight once, so
    # the split version's 2*(2*lam*w) carries one 2*lam*w too many.
    assert gs["w"] == pytest.approx(gp["w_a"] + gp["w_b"] - 2 * 0.1 * 0.5, rel=1e-7)
    assert gs["c"] == pytest.approx(gp["c_a"] + gp["c_b"] - 2 * 0.1 * 0.2, rel=1e-7)
    reg_split = 0.1 * (0.5**2 + 0.2**2)  # the extra copies in the split version
    assert ref.total_loss(shared, {**base, "w": 0.5, "c": 0.2}) == pytest.approx(
        ref.total_loss(split, {**base, "w_a": 0.5, "w_b": 0.5, "c_a": 0.2, "c_b": 0.2}) - reg_split)


def test_data_reduction_and_regulariser_once():
    examples = [({"x1": 0.5, "x2": 1.0}, {"y1": 0.0}), ({"x1": -1.0, "x2": 0.3}, {"y1": 1.0}),
                ({"x1": 2.0, "x2": -0.5}, {"y1": 0.5})]
    base = {"name": "d", "layers": [2, 2, 1], "activation": "sigmoid", "bias": True,
            "loss": "half_sse"}
    point = {"w1_1_1": 0.1, "w1_1_2": -0.2, "w1_2_1": 0.3, "w1_2_2": 0.4, "w2_1_1": -0.5,
             "w2_1_2": 0.6, "b1_1": 0.01, "b1_2": -0.02, "b2_1": 0.03}
    singles = [ref.total_loss({**base, "values": {"inputs": i, "targets": t}}, point) for i, t in examples]
    lam = 0.05
    reg = lam * sum(v**2 for k, v in point.items() if k.startswith("w"))
    data = [{"inputs": i, "targets": t} for i, t in examples]
    with_data = {**base, "data": data, "regularization": {"l2": lam}}
    assert ref.total_loss(with_data, point) == pytest.approx(sum(singles) + reg, rel=1e-12)
    assert ref.total_loss({**with_data, "reduction": "sum"}, point) == pytest.approx(sum(singles) + reg)
    assert ref.total_loss({**with_data, "reduction": "mean"}, point) == pytest.approx(sum(singles) / 3 + reg)
    assert ref.forward_values(with_data, point)["y1"] == ref.forward_values(
        {**base, "values": {"inputs": examples[0][0]}}, point)["y1"]


def test_expression_evaluator_is_an_allow_list():
    env = {"x": 2.0}
    assert ref.evaluate_expression("max(x, 3) - min(x, 3) + abs(-x) + relu(-x)", env) == 3.0
    assert ref.evaluate_expression("sigmoid(0) + tanh(0) + sin(0) + cos(0) + exp(0) + log(1)", env) == 2.5
    for bad in ["__import__('os')", "x.real", "x if x else 1", "[x]", "open('f')", "f(x)",
                "lambda: 1", "x < 1", "exp(x=1)"]:
        with pytest.raises((ValueError, SyntaxError)):
            ref.evaluate_expression(bad, env)
    with pytest.raises(KeyError):
        ref.evaluate_expression("y + 1", env)


def test_float_and_torch_backends_agree_on_the_loss():
    pytest.importorskip("torch")
    for spec, point in _CROSS_CHECKS:
        value = ref.total_loss(spec, point, backend="torch")
        assert float(value) == pytest.approx(ref.total_loss(spec, point), rel=1e-12, abs=1e-15)


# --------------------------------------------------------------------------- FD == torch

_CROSS_CHECKS = [
    (  # softmax + cross-entropy with a hidden tanh layer, one-hot target
        {"name": "sm", "layers": [3, 2, 3], "activations": ["tanh", "softmax"], "bias": True,
         "loss": "cross_entropy",
         "values": {"inputs": {"x1": 0.2, "x2": -0.7, "x3": 1.1}, "targets": {"y1": 0, "y2": 1, "y3": 0}}},
        {**{f"w1_{j}_{i}": 0.1 * (i + 2 * j) - 0.5 for j in (1, 2) for i in (1, 2, 3)},
         **{f"w2_{k}_{j}": 0.3 * (-1) ** (k + j) * k for k in (1, 2, 3) for j in (1, 2)},
         "b1_1": 0.1, "b1_2": -0.1, "b2_1": 0.0, "b2_2": 0.2, "b2_3": -0.3},
    ),
    (  # bce + l2 with biases
        {"name": "bce", "layers": [2, 2, 1], "activation": "sigmoid", "bias": True, "loss": "bce",
         "regularization": {"l2": 0.01, "include_biases": True},
         "values": {"inputs": {"x1": 1.0, "x2": -2.0}, "targets": {"y1": 0}}},
        {"w1_1_1": 0.5, "w1_1_2": -0.3, "w1_2_1": 0.8, "w1_2_2": 0.1, "w2_1_1": 1.2, "w2_1_2": -0.7,
         "b1_1": 0.0, "b1_2": 0.3, "b2_1": -0.2},
    ),
    (  # data, mean reduction, mse over two outputs, l2 on weights only
        {"name": "data", "inputs": ["a", "b"], "loss": "mse", "reduction": "mean",
         "neurons": {"h": {"from": {"a": "w_ah", "b": "w_bh"}, "bias": "b_h", "activation": "softplus"},
                     "o1": {"from": {"h": "w_h1"}, "activation": "identity"},
                     "o2": {"from": {"h": "w_h2", "a": "w_a2"}, "activation": "tanh"}},
         "outputs": ["o1", "o2"], "regularization": {"l2": 0.02},
         "data": [{"inputs": {"a": 0.1, "b": 0.2}, "targets": {"o1": 1.0, "o2": 0.0}},
                  {"inputs": {"a": -0.5, "b": 0.9}, "targets": {"o1": 0.0, "o2": 0.5}},
                  {"inputs": {"a": 1.5, "b": -0.3}, "targets": {"o1": -1.0, "o2": -0.5}}]},
        {"w_ah": 0.3, "w_bh": -0.8, "b_h": 0.1, "w_h1": 1.1, "w_h2": -0.4, "w_a2": 0.6},
    ),
    (  # leaky relu (explicit and default alpha) on both sides of 0, sse
        {"name": "leaky", "inputs": ["x1", "x2"], "loss": "sse",
         "neurons": {"p": {"from": {"x1": "w1", "x2": "w2"}, "activation": "leaky_relu", "alpha": 0.2},
                     "n": {"from": {"x1": "w3", "x2": "w2"}, "activation": "leaky_relu"},
                     "o": {"from": {"p": "v1", "n": "v2"}, "activation": "identity"}},
         "outputs": ["o"], "values": {"inputs": {"x1": 1.0, "x2": 0.5}, "targets": {"o": 0.25}}},
        {"w1": -0.9, "w2": 0.4, "w3": 0.7, "v1": 1.5, "v2": -2.0},
    ),
    (  # neurons and nodes mixed: a neuron fed by a node, a node reading a neuron and params
        {"name": "mixed", "inputs": ["x", "lambda"], "params": ["k", "Ω"],
         "nodes": {"s": "k * x + sin(lambda)", "q": "Ω * r**2 + max(r, 0.1) + abs(s) / exp(r)"},
         "neurons": {"r": {"from": {"s": "w_s", "x": "w_x"}, "activation": "relu"}},
         "objective": "q", "regularization": {"l2": 0.5},
         "values": {"inputs": {"x": 0.6, "lambda": 0.3}}},
        {"k": 1.3, "Ω": 0.7, "w_s": 0.9, "w_x": 0.4},
    ),
    (  # wrt names an input and a parameter
        {"name": "wrt", "inputs": ["λ", "μ"], "params": ["α"],
         "nodes": {"g": "α * log(λ) * μ + sqrt(λ) / μ - cos(α * μ)"},
         "objective": "g", "wrt": ["λ", "α"], "values": {"inputs": {"λ": 2.5, "μ": -0.4}}},
        {"α": 0.8},
    ),
    (  # expression activation and expression loss, data with sum reduction
        {"name": "expr", "inputs": ["x"], "loss": "(out_o - t_o)**4 + 0.1*abs(out_o)",
         "neurons": {"h": {"from": {"x": "w1"}, "bias": "b", "activation": "log(1 + exp(x))"},
                     "o": {"from": {"h": "w2"}, "activation": "x**3 - x"}},
         "outputs": ["o"],
         "data": [{"inputs": {"x": 0.4}, "targets": {"o": 0.2}}, {"inputs": {"x": -1.2}, "targets": {"o": -0.3}}]},
        {"w1": 0.9, "w2": 1.1, "b": -0.2},
    ),
    (  # a shared weight and a shared bias
        {"name": "shared", "inputs": ["A", "B"], "loss": "half_sse",
         "neurons": {"T": {"from": {"A": "w", "B": "u"}, "bias": "c", "activation": "sigmoid"},
                     "Bo": {"from": {"A": "u", "B": "w"}, "bias": "c", "activation": "tanh"},
                     "F": {"from": {"T": "w", "Bo": "v"}, "activation": "sigmoid"}},
         "outputs": ["F"], "regularization": {"l2": 0.1},
         "values": {"inputs": {"A": 0.35, "B": 0.9}, "targets": {"F": 0.5}}},
        {"w": 0.3, "u": -0.6, "v": 0.9, "c": 0.05},
    ),
    (WE5, WE5_POINT),
]


@pytest.mark.parametrize("spec, point", _CROSS_CHECKS, ids=[s["name"] for s, _ in _CROSS_CHECKS])
def test_finite_differences_match_torch(spec, point):
    pytest.importorskip("torch")
    fd = ref.finite_difference_gradient(spec, point)
    ad = ref.torch_gradient(spec, point)
    assert list(fd) == list(ad) == ref.wrt_names(spec)
    assert any(abs(v) > 1e-3 for v in ad.values())
    for name in ad:
        assert fd[name] == pytest.approx(ad[name], rel=1e-6, abs=1e-8), name

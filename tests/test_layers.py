"""The layer view (matrix notation) equals the scalar derivation — on every layered example, on
random layered networks, and against the lectures' matrix figures (WE-9, WE-10) and an
independent autodiff (tests/reference.py)."""
from __future__ import annotations

import random
import re
from dataclasses import replace

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reference
from conftest import EXAMPLES, EXAMPLE_SPECS, derivation, ids
from symbackprop import SpecError, derive, load_spec, spec_from_mapping
from symbackprop.layers import (LayerViewMismatch, NotLayered, build_layer_view, check_layer_view, layer_numbers,
                                layer_view, layer_view_dict)
from symbackprop.layers.check import checked_definitions
from symbackprop.straightline import dependency_order
from symbackprop.layers.view import Matrix

NOT_LAYERED = {"we03-three-formulas": ("neurons.b.from.x2", "skip connection"),
               "we11-composite-chain": ("objective", "needs a loss"),
               "residual-block": ("neurons.h1.from.x", "skip connection"),
               "batchnorm-3": ("batch_norm.z", "batch statistics"),
               # unrolled shapes: the recurrence's fixed h_0 and the pooling windows are expression
               # nodes but no element-wise maps (tests/test_maps.py has those that are)
               "rnn-three-steps": ("nodes.h_0", "reads no neuron"),
               "rnn-truncated": ("nodes.h_0_1", "reads no neuron"),
               "conv1d-maxpool": ("nodes.p2_1", "not element-wise over a layer"),
               "conv2d-4x4": ("nodes.p2_1_1", "not element-wise over a layer")}
LAYERED = [p for p in EXAMPLE_SPECS if p.stem not in NOT_LAYERED]
WE9M, WE10M = EXAMPLES / "we09-matrix.yaml", EXAMPLES / "we10-matrix.yaml"
WE10 = EXAMPLES / "we10-relu-one-step.yaml"

try:
    import torch  # noqa: F401
    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False


# --------------------------------------------------------------------------- which networks


@pytest.mark.parametrize("path", EXAMPLE_SPECS, ids=ids(EXAMPLE_SPECS))
def test_every_example_has_a_layer_view_or_says_why_not(path):
    d = derivation(str(path))
    if path.stem in NOT_LAYERED:
        key, words = NOT_LAYERED[path.stem]
        with pytest.raises(NotLayered) as info:
            layer_view(d)
        assert info.value.key == key and words in str(info.value)
        return
    view = layer_view(d)
    assert [len(layer.units) for layer in view.layers][-1] == len(d.spec.outputs)
    assert sorted({name for name, *_ in view.entries()}) == sorted(d.spec.parameters)


def test_expression_nodes_and_skip_connections_are_named():
    nodes = derive(spec_from_mapping({"name": "n", "inputs": ["x"], "nodes": {"S": "x**2"},
                                      "neurons": {"o": {"from": {"S": "w"}, "activation": "identity"}},
                                      "outputs": ["o"], "loss": "half_sse"}))
    with pytest.raises(NotLayered, match="'S' reads no neuron") as info:
        layer_view(nodes)
    assert info.value.key == "nodes.S"
    hidden_output = derive(spec_from_mapping({"name": "h", "inputs": ["x"], "neurons": {
        "h": {"from": {"x": "a"}, "activation": "tanh"}, "o": {"from": {"h": "b"}, "activation": "identity"}},
        "outputs": ["o", "h"], "loss": "half_sse"}))
    with pytest.raises(NotLayered, match="'h' is an output but not in the last layer"):
        layer_view(hidden_output)


# --------------------------------------------------------------------------- equality with the scalar derivation


@pytest.mark.parametrize("method", ["backprop", "paths"])
@pytest.mark.parametrize("path", LAYERED, ids=ids(LAYERED))
def test_layer_view_equals_the_scalar_derivation(path, method):
    if method == "paths" and path.stem.endswith("-updated"):
        pytest.skip("the lecture variant is a backprop procedure")
    view = layer_view(derivation(str(path), method))  # asserts entry by entry
    assert view.max_difference < 1e-12


@pytest.mark.parametrize("path", [p for p in LAYERED if load_spec(p).has_values],
                         ids=ids([p for p in LAYERED if load_spec(p).has_values]))
def test_matrix_numbers_equal_an_independent_autodiff(path):
    """Σ of a parameter's entries of ∂J/∂W⁽ˡ⁾ (and ∂J/∂b⁽ˡ⁾) = the reference's gradient."""
    raw = reference.load(path)
    raw["backprop_weights"] = "old"
    n = layer_numbers(layer_view(derivation(str(path))), exact=False)
    got = _per_parameter(n)
    if HAVE_TORCH:
        expected = reference.torch_gradient(raw, {})
        tolerance = dict(rel=1e-9, abs=1e-12)
    else:
        if path.stem in ("we10-relu-one-step", "we10-matrix"):
            pytest.skip("h2 sits on the ReLU kink: a central difference is not the derivative there")
        expected = reference.finite_difference_gradient(raw, {})
        tolerance = dict(rel=1e-5, abs=1e-8)
    assert set(got) == set(expected)
    for name, value in got.items():
        assert value == pytest.approx(expected[name], **tolerance), name


def _per_parameter(n) -> dict[str, float]:
    """What a reader adds up: Σ over a parameter's entries of ∂J/∂W⁽ˡ⁾ and ∂J/∂b⁽ˡ⁾ (in numbers)."""
    totals: dict[str, float] = {}
    for name, kind, number, r, c in n.view.entries():
        matrix = (n.weight_gradients if kind == "W" else n.bias_gradients)[number - 1]
        totals[name] = totals.get(name, 0.0) + float(matrix[r, c])
    return totals


def test_the_check_catches_a_transposed_gradient_and_a_lost_one_over_n():
    view = layer_view(derivation(str(EXAMPLES / "we05-221-sigmoid.yaml")), check=False)
    transposed = (Matrix(view.weight_gradients[0].T),) + view.weight_gradients[1:]
    with pytest.raises(LayerViewMismatch, match="∂J/∂w_"):
        check_layer_view(replace(view, weight_gradients=transposed))
    batch = layer_view(derivation(str(WE9M)), check=False)
    with pytest.raises(LayerViewMismatch, match=r"δ of 'h1_1' \(example 1\) is ") as info:
        check_layer_view(replace(batch, scale=sp.Integer(1)))
    got, expected = map(float, re.search(r"is (\S+) in matrix form but (\S+) in", str(info.value)).groups())
    assert got / expected == pytest.approx(3)  # N = 3: exactly the lost 1/N


def test_chain_of_jacobians_multiplies_out_to_the_delta():
    """∂E/∂z · ∂z/∂a⁽ᴸ⁾ · W⁽ᴸ⁾ · ∂h/∂a ⋯ at the given values is δ⁽ˡ⁾ᵀ (WE-9, WE-13, WE-7c)."""
    for path in (WE9M, EXAMPLES / "we13-relu-3layer.yaml", EXAMPLES / "we07c-softmax-ce.yaml"):
        d = derivation(str(path))
        view = layer_view(d)
        numbers = layer_numbers(view, exact=False)
        values = {sp.Symbol(k): sp.Float(v) for k, v in d.numbers.forward.items()}
        for layer in view.layers:
            product = sp.eye(1)
            for _, factor in view.chain(layer.number):
                product = product * factor.xreplace(values)
            delta = numbers.examples[0].deltas[layer.number - 1]
            assert [float(v) for v in product] == pytest.approx([float(v) for v in delta.T], rel=1e-12)


def test_activation_jacobians_are_diagonal_except_softmax():
    view = layer_view(derivation(str(EXAMPLES / "we07c-softmax-ce.yaml")))
    hidden, output = view.examples[0].activation_jacobians
    assert hidden.is_diagonal() and not output.is_diagonal()
    out = view.examples[0].outs[1]
    assert output[0, 1] == -out[0] * out[1] and output[0, 0] == out[0] * (1 - out[0])


# --------------------------------------------------------------------------- the lectures' matrix figures


@pytest.mark.parametrize("path", [WE10M, WE10], ids=["matrix-form", "scalar-form"])
def test_we10_figures_exactly(path):
    """WE-10: h = (1, 0), z = 1, J = ½, ∂J/∂w² = (−1, 0), w² ← (2, 2), ∂J/∂W¹ = [[−1, 0], [0, 0]]."""
    n = layer_numbers(layer_view(derivation(str(path))))
    assert n.exact
    ex = n.examples[0]
    assert ex.outs[0] == Matrix([1, 0]) and ex.outs[1] == Matrix([1])
    assert n.loss == sp.Rational(1, 2)
    assert n.weight_gradients[1] == Matrix([[-1, 0]])
    assert n.updated_weights[1] == Matrix([[2, 2]])
    assert n.weight_gradients[0] == Matrix([[-1, 0], [0, 0]])
    assert ex.activation_jacobians[0] == Matrix([[1, 0], [0, 0]])  # ReLU′(0) = 0 on the kink
    assert n.loss_after == 2


def test_we9_symbolic_delta_x_transpose():
    """WE-9: δ⁽²⁾ = −(c − z)σ′(a²), δ⁽¹⁾ = (W²ᵀδ⁽²⁾) ⊙ σ′(a¹), ∂J/∂W¹ = 1/N Σ_p δ⁽¹⁾xᵀ."""
    view = layer_view(derivation(str(WE9M)))
    ex = view.examples[0]
    z, t = ex.outs[1][0], ex.targets[0]
    assert sp.expand(ex.delta_definitions[1][0] - (-(t - z) * z * (1 - z))) == 0
    h = ex.outs[0]
    w2 = view.layers[1].weights
    for j in range(2):
        assert sp.expand(ex.delta_definitions[0][j] - w2[0, j] * ex.deltas[1][0] * h[j] * (1 - h[j])) == 0
    expected = sp.Rational(1, 3) * sum((e.deltas[0] * e.inputs.T for e in view.examples), sp.zeros(2, 2))
    assert (view.weight_gradients[0] - expected).expand() == sp.zeros(2, 2)


def test_matrix_and_scalar_forms_of_an_example_agree():
    matrix, scalar = derivation(str(WE10M)), derivation(str(WE10))
    names = {"w1_1_1": "W1_11", "w1_1_2": "W1_12", "w1_2_1": "W1_21", "w1_2_2": "W1_22",
             "w2_1_1": "w2_1", "w2_1_2": "w2_2"}
    assert {names[k]: v for k, v in matrix.numbers.gradients.items()} == scalar.numbers.gradients


def test_json_layer_view_is_plain_data():
    out = layer_view_dict(layer_view(derivation(str(WE9M))))
    assert out["scale"] == "1/3" and out["exact"] is False
    assert out["layers"]["1"]["weights"] == [["w1_1_1", "w1_1_2"], ["w1_2_1", "w1_2_2"]]
    assert len(out["layers"]["1"]["values"]["deltas"]) == 3  # one vector per example
    assert "layer__delta_h1_1__1" in out["layers"]["1"]["gradient"][0][0]


# --------------------------------------------------------------------------- matrix-form values in a spec


def _layered(values=None, data=None, **extra) -> dict:
    spec = {"name": "m", "layers": [2, 2, 1], "activation": "sigmoid", "bias": True, "loss": "half_sse", **extra}
    if values is not None:
        spec["values"] = values
    if data is not None:
        spec["data"] = data
    return spec


def test_matrix_values_expand_to_the_generated_names():
    spec = spec_from_mapping(_layered({"params": {"W1": [[1, 2], [3, 4]], "b1": [5, 6], "W2": [[7, 8]], "b2_1": 9},
                                       "inputs": {"x": [0.5, 0.25]}, "targets": {"y": [1]}}))
    assert spec.params_values == {"w1_1_1": 1, "w1_1_2": 2, "w1_2_1": 3, "w1_2_2": 4, "b1_1": 5, "b1_2": 6,
                                  "w2_1_1": 7, "w2_1_2": 8, "b2_1": 9}
    assert spec.examples[0].inputs == {"x1": sp.Rational(1, 2), "x2": sp.Rational(1, 4)}


@pytest.mark.parametrize("values,key,words", [
    ({"params": {"W1": [[1, 2]]}}, "values.params.W1", "must be a 2×2 matrix"),
    ({"params": {"W1": [[1, 2], [3]]}}, "values.params.W1[1]", "must be a list of 2 numbers"),
    ({"params": {"W3": [[1]]}}, "values.params.W3", "there is no layer 3 (the network has 2)"),
    ({"params": {"b2": [1, 2]}}, "values.params.b2", "must be a list of 1 number"),
    ({"inputs": {"x": [1]}}, "values.inputs.x", "must be a list of 2 numbers"),
])
def test_matrix_values_with_the_wrong_shape_name_the_key(values, key, words):
    with pytest.raises(SpecError) as info:
        spec_from_mapping(_layered(values))
    assert info.value.key == key and words in str(info.value)


def test_matrix_values_in_data_name_the_example():
    with pytest.raises(SpecError) as info:
        spec_from_mapping(_layered({"params": {}}, data=[{"inputs": {"x": [1, 2]}, "targets": {"y": [1]}},
                                                          {"inputs": {"x": [1, 2]}, "targets": {"y": [1, 2]}}]))
    assert info.value.key == "data[1].targets.y"


# --------------------------------------------------------------------------- random layered networks

HIDDEN = ["sigmoid", "tanh", "identity", "relu", "softplus", "leaky_relu", "x**3"]
OUTPUT = [("sigmoid", "bce"), ("identity", "half_sse"), ("tanh", "mse"), ("sigmoid", "sse"),
          ("softmax", "cross_entropy"), ("softmax", "half_sse")]


@st.composite
def layered_networks(draw):
    """Random layered networks, the structure drawn by hypothesis (so failures shrink): 1–5
    layers, mixed activations within a layer, leaky ReLU's alpha, sparse edges, shared weights
    and biases (also a weight shared with a bias), a batch with either reduction, L2 with or
    without biases. Only the numbers come from a seeded generator."""
    rng = random.Random(draw(st.integers(0, 10**6)))
    widths = draw(st.lists(st.integers(1, 3), min_size=2, max_size=6))
    act, loss = draw(st.sampled_from(OUTPUT))
    if act == "softmax" and widths[-1] < 2:
        widths[-1] = 2
    inputs = [f"x{i}" for i in range(1, widths[0] + 1)]
    previous, neurons, params = inputs, {}, []

    def parameter(fresh: str) -> str:
        if params and draw(st.integers(0, 9)) == 0:
            return draw(st.sampled_from(params))  # shared with any earlier weight or bias
        params.append(fresh)
        return fresh

    for l in range(1, len(widths)):
        last = l == len(widths) - 1
        mixed = not last and draw(st.booleans())
        layer_act = draw(st.sampled_from(HIDDEN))
        names = [f"y{j}" if last else f"h{l}_{j}" for j in range(1, widths[l] + 1)]
        for j, name in enumerate(names, 1):
            kept = [s for s in previous if draw(st.integers(0, 4)) > 0] or [previous[0]]
            edges = {s: parameter(f"w{l}_{j}_{previous.index(s) + 1}") for s in kept}
            neuron = {"from": edges, "activation": act if last else (draw(st.sampled_from(HIDDEN)) if mixed
                                                                     else layer_act)}
            if neuron["activation"] == "leaky_relu" and draw(st.booleans()):
                neuron["alpha"] = 0.1
            if draw(st.booleans()):
                neuron["bias"] = parameter(f"b{l}_{j}")
            neurons[name] = neuron
        previous = names
    outputs = previous
    count = draw(st.integers(1, 3))

    def targets():
        if loss == "cross_entropy":
            k = rng.randrange(len(outputs))
            return {o: (1 if i == k else 0) for i, o in enumerate(outputs)}
        return {o: round(rng.uniform(0.1, 0.9), 3) for o in outputs}

    data = [{"inputs": {x: round(rng.uniform(-1, 1), 3) for x in inputs}, "targets": targets()}
            for _ in range(count)]
    spec = {"name": "random", "inputs": inputs, "neurons": neurons, "outputs": outputs, "loss": loss,
            "learning_rate": 0.5,
            "values": {"params": {p: round(rng.uniform(-1, 1), 3) for p in params}}}
    if count == 1:
        spec["values"].update(data[0])
    else:
        spec["data"], spec["reduction"] = data, draw(st.sampled_from(["sum", "mean"]))
    if draw(st.booleans()):
        spec["regularization"] = {"l2": 0.01, "include_biases": draw(st.booleans())}
    return spec


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layered_networks())
def test_random_layered_networks(raw):
    d = derive(spec_from_mapping(raw))
    view = layer_view(d)  # the entry-by-entry check against the scalar derivation
    assert view.max_difference < 1e-9
    numbers = layer_numbers(view, exact=False)
    got = _per_parameter(numbers)
    assert got == pytest.approx(d.numbers.gradients, rel=1e-9, abs=1e-12)
    _assert_same_step(numbers, d)
    if HAVE_TORCH:
        expected = reference.torch_gradient(raw, {})
        for name, value in got.items():
            assert value == pytest.approx(expected[name], rel=1e-8, abs=1e-12), name


def _assert_same_step(numbers, d):
    """The matrices after the step hold exactly the scalar derivation's new parameter values."""
    for layer, new_w, new_b in zip(numbers.view.layers, numbers.updated_weights, numbers.updated_biases):
        for matrix, new in ((layer.weights, new_w), (layer.biases, new_b)):
            for k, entry in enumerate(matrix or []):
                if entry != 0:
                    assert float(new[k]) == pytest.approx(d.numbers.updated_params[str(entry)], rel=1e-12, abs=1e-14)
    assert float(numbers.loss_after) == pytest.approx(d.numbers.forward_after[d.loss_name], rel=1e-9)


@pytest.mark.parametrize("extra", [
    {"neurons": {"h1": {"from": {"x1": "w", "x2": "v"}, "activation": "sigmoid"},
                 "h2": {"from": {"x1": "u", "x2": "w"}, "activation": "sigmoid"},
                 "y": {"from": {"h1": "a", "h2": "c"}, "activation": "sigmoid"}}},
    {"neurons": {"h1": {"from": {"x1": "w", "x2": "v"}, "activation": "tanh", "bias": "w"},
                 "h2": {"from": {"x1": "u", "x2": "c"}, "activation": "tanh", "bias": "w"},
                 "y": {"from": {"h1": "a", "h2": "w"}, "activation": "identity"}},
     "regularization": {"l2": 0.1, "include_biases": True}},
    {"neurons": {"h1": {"from": {"x1": "w", "x2": "v"}, "activation": "relu"},
                 "h2": {"from": {"x1": "u", "x2": "c"}, "activation": "relu"},
                 "y": {"from": {"h1": "a", "h2": "b"}, "activation": "identity"}}, "wrt": ["a", "w"]},
], ids=["shared-weight", "weight-and-biases-shared-with-l2", "wrt-subset"])
def test_shared_parameters_and_wrt_give_the_scalar_step(extra):
    """A shared parameter's gradient is the sum of its entries (its L2 term counted once), it
    moves once by that sum, parameters outside ``wrt`` stay; the loss after the step agrees."""
    values = {"w": 0.3, "v": -0.4, "u": 0.6, "c": 0.2, "a": 0.5, "b": -0.7}
    raw = {"name": "shared", "inputs": ["x1", "x2"], "outputs": ["y"], "loss": "half_sse", "learning_rate": 0.5,
           **extra}
    used = {p for n in raw["neurons"].values() for p in list(n["from"].values()) + [n.get("bias")] if p}
    raw["values"] = {"params": {p: values[p] for p in used}, "inputs": {"x1": 0.9, "x2": -0.2}, "targets": {"y": 0.4}}
    d = derive(spec_from_mapping(raw))
    view = layer_view(d)
    for exact in (True, False):
        numbers = layer_numbers(view, exact=exact)
        sums = _per_parameter(numbers)
        assert {w: sums[w] for w in d.numbers.gradients} == pytest.approx(d.numbers.gradients, rel=1e-12)
        _assert_same_step(numbers, d)
    if HAVE_TORCH:
        torch_grad = reference.torch_gradient(raw, {})
        assert {w: sums[w] for w in torch_grad} == pytest.approx(torch_grad, rel=1e-12)


def test_a_parameter_named_like_an_internal_symbol_keeps_its_value():
    d = derive(spec_from_mapping({"name": "c", "inputs": ["x"], "outputs": ["y"], "loss": "half_sse",
                                  "neurons": {"y": {"from": {"x": "layer_delta_y"}, "activation": "sigmoid"}},
                                  "values": {"params": {"layer_delta_y": 0.3}, "inputs": {"x": 1},
                                             "targets": {"y": 0}}}))
    numbers = layer_numbers(layer_view(d), exact=False)
    assert float(numbers.weights[0][0]) == 0.3
    assert float(numbers.weight_gradients[0][0]) == pytest.approx(d.numbers.gradients["layer_delta_y"], rel=1e-12)


def test_the_check_scales_to_deep_networks():
    """Relative, not absolute: at depth 10 the gradients are ~1e-9 and a transposed ∂J/∂W¹ is still caught."""
    d = derive(spec_from_mapping({"name": "deep", "layers": [2] * 11, "activation": "sigmoid", "loss": "half_sse"}))
    view = layer_view(d, check=False)
    transposed = (Matrix(view.weight_gradients[0].T),) + view.weight_gradients[1:]
    with pytest.raises(LayerViewMismatch, match="∂J/∂w1_"):
        check_layer_view(replace(view, weight_gradients=transposed))


def test_a_custom_activation_outside_its_domain():
    """sqrt(x − 1) is undefined at the random test points; the spec's own values (net = 2) still check it;
    without values nothing can be checked, which is one clear error."""
    raw = {"name": "d", "inputs": ["x"], "outputs": ["y"], "loss": "half_sse",
           "neurons": {"h": {"from": {"x": "w"}, "activation": "sqrt(x - 1)"},
                       "y": {"from": {"h": "v"}, "activation": "identity"}}}
    with_values = derive(spec_from_mapping({**raw, "values": {"params": {"w": 2, "v": 1}, "inputs": {"x": 1},
                                                                "targets": {"y": 0}}}))
    assert layer_view(with_values).max_difference < 1e-12
    symbolic = derive(spec_from_mapping({**raw, "neurons": {**raw["neurons"],
                                                            "h": {"from": {"x": "w"}, "activation": "sqrt(x - 5)"}}}))
    with pytest.raises(SpecError, match="undefined at every test point") as info:
        layer_view(symbolic)
    assert info.value.key == "layers"



# --------------------------------------------------------------------------- the matrix documents


def _runner():
    from click.testing import CliRunner

    try:
        return CliRunner(mix_stderr=False)  # click < 8.2
    except TypeError:
        return CliRunner()


@pytest.mark.parametrize("spec,args,message", [
    ("we03-three-formulas.yaml", ["--template", "matrix"],
     "neurons.b.from.x2: 'x2' feeds 'b' across layers (a skip connection): no matrix form"),
    ("we11-composite-chain.yaml", ["--template", "matrix"], "objective: the layer view needs a loss"),
    ("we05-221-sigmoid.yaml", ["--template", "derivation", "--notation", "matrix"],
     "notation: --notation matrix goes with --template solution"),
    ("we04-232-symbolic.yaml", ["--template", "solution", "--notation", "matrix"],
     "values: numbers in matrix form need values"),
])
def test_matrix_documents_refuse_with_one_line(tmp_path, spec, args, message):
    from symbackprop.cli.render import render_command

    out = tmp_path / "out"
    result = _runner().invoke(render_command, [str(EXAMPLES / spec), *args, "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr.startswith("symbackprop: error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1 and not out.exists()


def test_matrix_documents_are_deterministic_and_show_we10(tmp_path):
    from symbackprop.cli.render import render_command

    for run in ("a", "b"):
        for args in (["--template", "matrix"], ["--template", "solution", "--notation", "matrix"]):
            result = _runner().invoke(render_command, [str(WE10M), *args, "-o", str(tmp_path / run)])
            assert result.exit_code == 0, result.stderr
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["we10-matrix-matrix.tex", "we10-matrix-solution-matrix.tex"]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    tex = (tmp_path / "a" / "we10-matrix-matrix.tex").read_text()
    assert r"\frac{\partial E}{\partial W^{(1)}} &= \begin{pmatrix} -1 & 0 \\ 0 & 0 \end{pmatrix}" in tex
    assert (r"W^{(2)+} &= \begin{pmatrix} 1 & 2 \end{pmatrix} - 1 \begin{pmatrix} -1 & 0 \end{pmatrix}"
            r" = \begin{pmatrix} 2 & 2 \end{pmatrix}") in tex
    assert r"h^{(1)} &= f\!\left(a^{(1)}\right) = \begin{pmatrix} 1 \\ 0 \end{pmatrix}" in tex
    assert r"The loss is $E = 0.5$ (exact)" in tex
    assert r"\underbrace{" in tex and r"\odot f'\!\left(a^{(1)}\right)" in tex
    solution = (tmp_path / "a" / "we10-matrix-solution-matrix.tex").read_text()
    assert "Worked solution in matrix form" in solution and r"\section{The Jacobians}" not in solution


@pytest.mark.parametrize("name", ["symbackprop.layers.view", "symbackprop.layers.numbers",
                                  "symbackprop.layers.export", "symbackprop.spec.matrix_values",
                                  "symbackprop.render.matrix"])
def test_doctests(name, monkeypatch):
    import doctest
    import importlib

    monkeypatch.chdir(EXAMPLES.parent)
    failures, tried = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failures == 0


def test_derive_notation_matrix_adds_the_layer_view(tmp_path):
    import json

    from symbackprop.cli import main

    out = tmp_path / "we10.json"
    result = _runner().invoke(main, ["derive", str(WE10M), "--notation", "matrix", "--format", "json", "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    data = json.loads(out.read_text())
    layers = data["layer_view"]["layers"]
    assert layers["1"]["values"]["gradient"] == [[-1.0, 0.0], [0.0, 0.0]]   # WE-10: ∂J/∂W¹
    assert layers["2"]["values"]["updated_weights"] == [[2.0, 2.0]]         # WE-10: w² ← (2, 2)
    text = _runner().invoke(main, ["derive", str(WE10M), "--notation", "matrix"])
    assert "dE/dW1 = [-1.000000, 0.000000; 0.000000, 0.000000]" in text.stdout
    refused = _runner().invoke(main, ["derive", str(EXAMPLES / "we11-composite-chain.yaml"), "--notation", "matrix"])
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1
    assert "objective: the layer view needs a loss" in refused.stderr


@pytest.mark.parametrize("extra,key", [({"activation": "sigmod"}, "activation"),
                                       ({"activations": ["relu", "bogus"]}, "activations[1]")])
def test_a_bad_layer_activation_names_the_key_the_user_wrote(extra, key):
    from symbackprop import build_network

    with pytest.raises(SpecError, match="unknown activation") as info:
        build_network(spec_from_mapping({"name": "a", "layers": [2, 2, 1], "loss": "half_sse", **extra}))
    assert info.value.key == key


def test_layer_numbers_entries_are_sympys_substitution_bit_for_bit():
    """The fast entry evaluation (operand by operand in float64) gives exactly what
    ``xreplace`` gives — type, value and sign — on random sums, products and powers of Floats,
    Rationals, zeros, tiny and huge numbers, and leaves everything else to SymPy."""
    import random

    from symbackprop.layers.numbers import _entry, _float_value, _Substitute

    rng = random.Random(20)
    atoms = sp.symbols("a0:8")

    def value():
        kind = rng.random()
        if kind < 0.15:
            return sp.Rational(rng.randint(-9, 9), rng.randint(1, 20))
        if kind < 0.2:
            return sp.Float(rng.choice([0.0, 1e-300, 1e300, -2.5e-160]))
        return sp.Float(rng.uniform(-2, 2))

    def expr(depth):
        if depth == 0 or rng.random() < 0.3:
            return rng.choice(atoms + (sp.Rational(rng.randint(-5, 5), rng.randint(1, 7)), sp.Integer(1)))
        kind = rng.random()
        parts = [expr(depth - 1) for _ in range(rng.randint(2, 4))]
        if kind < 0.4:
            return sp.Add(*parts)
        if kind < 0.8:
            return sp.Mul(*parts)
        if kind < 0.95:
            return sp.Pow(parts[0], rng.choice([2, -1, 3, -2, sp.Rational(1, 2)]))
        return sp.tanh(parts[0])

    fast = 0
    for _ in range(3000):
        e = expr(3)
        at = {a: value() for a in atoms}
        try:
            expected = e.xreplace(at)
        except ZeroDivisionError:
            continue
        got = _entry(e, at)
        assert type(got) is type(expected) and got == expected, (e, at)
        if got.is_Float:
            assert float(got).hex() == float(expected).hex()
        try:
            fast += isinstance(_float_value(e, at), float)
        except (_Substitute, ZeroDivisionError):
            pass
    assert fast > 500



def test_the_update_step_and_products_are_sympys_arithmetic_bit_for_bit():
    """``w − η·Σ entries`` and ``δᵢ·hⱼ`` by the float shortcut are what SymPy's own arithmetic
    gives — type, value and sign — for Floats, Rationals, zeros, tiny and huge numbers and other
    precisions."""
    import random

    from symbackprop.layers.numbers import _step, _times

    rng = random.Random(21)

    def number():
        kind = rng.random()
        if kind < 0.15:
            return sp.Rational(rng.randint(-9, 9), rng.randint(1, 20))
        if kind < 0.25:
            return sp.Float(rng.choice([0.0, 1e-300, 1e300, -2.5e-160, 2.2250738585072014e-308]))
        if kind < 0.3:
            return sp.Float(rng.uniform(-2, 2), 30)
        if kind < 0.4:  # near the subnormal numbers: the product or the result may be one
            return sp.Float(rng.uniform(-4, 4) * rng.choice([1e-308, 1e-300, 1e-154]))
        if kind < 0.45:  # 53 bits below the normal doubles (no double holds them exactly), or above
            return sp.Float(f"{rng.uniform(1, 9):.15f}e{rng.choice([-310, -320, 310])}", 15)
        return sp.Float(rng.uniform(-2, 2))

    cases = [(number(), rng.choice([sp.Float(0.5), sp.Float(rng.uniform(0, 1)), number()]),
              [number() for _ in range(rng.choice([1, 1, 1, 2, 3]))]) for _ in range(6000)]
    for _ in range(300):  # where the guards decide: a subnormal product of normal numbers, and a
        # 53-bit number below the doubles scaled up into them
        cases.append((sp.Float(rng.uniform(1, 4) * 1e-307), sp.Float(rng.uniform(0.1, 0.9)),
                      [sp.Float(rng.uniform(1, 4) * 1e-308)]))
        cases.append((sp.Float(rng.uniform(1, 4) * 1e-300), sp.Float(1e10),
                      [sp.Float(f"{rng.uniform(1, 9):.15f}e-310", 15)]))
    shortcut = 0
    for value, eta, terms in cases:
        for got, expected in ((_step(value, eta, terms), value - eta * sp.Add(*terms)),
                              (_times(value, terms[0]), value * terms[0])):
            assert type(got) is type(expected) and got == expected, (value, eta, terms)
            if got.is_Float:
                assert float(got).hex() == float(expected).hex() and got._prec == expected._prec
                shortcut += value.is_Rational or value._prec == 53
    assert shortcut > 2000


def test_double_is_sympys_float_of_a_python_float():
    import random

    from symbackprop.layers.numbers import double

    rng = random.Random(22)
    values = [0.0, -0.0, 5e-324, -2.5e-310, 2.2250738585072014e-308, 1.7976931348623157e308,
              float("inf"), float("-inf"), float("nan"), 1.0, -1.0, 0.1]
    values += [rng.uniform(-2, 2) * 10.0 ** rng.randint(-300, 300) for _ in range(2000)]
    for v in values:
        got, expected = double(v), sp.Float(v)
        assert type(got) is type(expected) and str(got) == str(expected), v
        if expected.is_Float:
            assert got._mpf_ == expected._mpf_ and got._prec == expected._prec

def _assert_printed_by_str(view):
    """Every expression of the layer view's JSON is ``str`` of its entry (the JSON uses one shared printer)."""
    out = layer_view_dict(view)
    rows = lambda m: None if m is None else [[str(m[r, c]) for c in range(m.cols)] for r in range(m.rows)]
    column = lambda m: None if m is None else [str(v) for v in m]
    first = view.examples[0]
    assert out["loss_gradient"] == rows(first.loss_gradient)
    for i, layer in enumerate(view.layers):
        entry = out["layers"][str(layer.number)]
        assert entry["weights"] == rows(layer.weights) and entry["biases"] == column(layer.biases)
        assert entry["activation_jacobian"] == rows(first.activation_jacobians[i])
        assert entry["delta"] == column(first.delta_definitions[i])
        assert entry["gradient"] == rows(view.weight_gradients[i])
        assert entry["bias_gradient"] == column(view.bias_gradients[i])


@pytest.mark.parametrize("path", LAYERED, ids=ids(LAYERED))
def test_layer_view_strings_are_what_str_prints(path):
    _assert_printed_by_str(layer_view(derivation(str(path))))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layered_networks())
def test_random_layer_view_strings_are_what_str_prints(raw):
    _assert_printed_by_str(layer_view(derive(spec_from_mapping(raw))))


def _assert_checked_in_dependency_order(view):
    """The check's definitions need no sorting, and they are what sorting the whole list it
    compiled before gives (the scalar δs as the derivation lists them, the layer view's δs input
    layer first): the same program, the same numbers."""
    definitions, _, _ = checked_definitions(view)
    scalar = [(e.symbol, e.expression) for e in view.derivation.reference.deltas.values()]
    ours = [(s, e) for ex in view.examples for deltas, defs in zip(ex.deltas, ex.delta_definitions)
            for s, e in zip(deltas, defs)]
    mine = {s for s, _ in ours}
    start = next(k for k, (s, _) in enumerate(definitions) if s in mine)
    assert {s for s, _ in definitions[:len(scalar)]} == {s for s, _ in scalar}
    assert {s for s, _ in definitions[start:start + len(ours)]} == mine
    before = scalar + definitions[len(scalar):start] + ours + definitions[start + len(ours):]
    assert dependency_order(definitions) == definitions
    assert dependency_order(before) == definitions
    if len(view.layers) > 1:
        assert before != definitions  # two different orders were compared




def _assert_gradients_as_the_formulas_build_them(view):
    """The gradient matrices are what ``s·(Σ_p δ hᵀ) ⊙ M + R`` builds entry for entry with
    SymPy's own operations (the builder skips the ``·1`` and ``Add`` of one term that change
    nothing, and multiplies two symbols directly), as are ``W⁽ˡ⁺¹⁾ᵀδ⁽ˡ⁺¹⁾`` and ``∂J/∂x``; a
    parameter's total is ``Add`` of its entries."""
    def mask(m):
        return Matrix(m.rows, m.cols, lambda r, c: 0 if m[r, c] == 0 else 1)

    def total(ms):
        return Matrix(ms[0].rows, ms[0].cols, lambda r, c: sp.Add(*[m[r, c] for m in ms]))

    for i, layer in enumerate(view.layers):
        parts = [(ex.deltas[i] * ex.layer_input(layer.number).T, ex.deltas[i]) for ex in view.examples]
        for k, (params, reg, got) in enumerate(((layer.weights, view.weight_regularisation[i],
                                                 view.weight_gradients[i]),
                                                (layer.biases, view.bias_regularisation[i], view.bias_gradients[i]))):
            if params is None:
                assert got is None
                continue
            built = view.scale * total([p[k] for p in parts]).multiply_elementwise(mask(params))
            built = Matrix(built + reg) if reg is not None else Matrix(built)
            assert got == built and [str(e) for e in got] == [str(e) for e in built]
    for ex in view.examples:
        for i in range(len(view.layers) - 1):
            back = view.layers[i + 1].weights.T * ex.deltas[i + 1]
            assert ex.backs[i] == back and [str(e) for e in ex.backs[i]] == [str(e) for e in back]
    if view.input_gradient is not None:
        assert view.input_gradient == view.layers[0].weights.T * view.examples[0].deltas[0]
    totals = {}
    for name, kind, number, r, c in view.entries():
        totals.setdefault(name, []).append((view.weight_gradients if kind == "W" else view.bias_gradients)
                                           [number - 1][r, c])
    assert view.parameter_gradients() == {name: sp.Add(*terms) for name, terms in totals.items()}


def _assert_outer_products_as_sympy_multiplies(view):
    """Each example's ``δ⁽ˡ⁾h⁽ˡ⁻¹⁾ᵀ`` in numbers is SymPy's matrix product of the numbers, bit for bit."""
    if view.derivation.numbers is None:
        return
    for exact in (False, None):
        numbers = layer_numbers(view, exact=exact)
        for ex in numbers.examples:
            for i, layer in enumerate(view.layers):
                h = ex.inputs if layer.number == 1 else ex.outs[layer.number - 2]
                product = ex.deltas[i] * h.T
                assert ex.outer[i] == product
                assert [(type(a), str(a)) for a in ex.outer[i]] == [(type(b), str(b)) for b in product]


@pytest.mark.parametrize("path", LAYERED, ids=ids(LAYERED))
def test_the_fast_builder_and_check_do_what_sympy_did(path):
    view = build_layer_view(derivation(str(path)))
    _assert_gradients_as_the_formulas_build_them(view)
    _assert_checked_in_dependency_order(view)
    _assert_outer_products_as_sympy_multiplies(view)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layered_networks())
def test_random_fast_builder_and_check_do_what_sympy_did(raw):
    view = build_layer_view(derive(spec_from_mapping(raw)))
    _assert_gradients_as_the_formulas_build_them(view)
    _assert_checked_in_dependency_order(view)
    _assert_outer_products_as_sympy_multiplies(view)

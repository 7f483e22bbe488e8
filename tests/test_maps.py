"""Element-wise maps after a layer (expression nodes such as dropout masks) in the layer view
and the matrix code: both agree with the scalar derivation, an independent evaluation of the
spec (``tests/reference.py``: finite differences, and torch autograd where installed), and
with each other; nodes that are no element-wise map are refused with their key."""
from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import yaml

import reference
from conftest import EXAMPLES
from symbackprop import derive, load_spec, spec_from_mapping
from symbackprop.codegen import layered_structure, numeric_function
from symbackprop.layers import NotLayered, layer_numbers, layer_view, layer_view_dict
from symbackprop.layers.maps import find_maps

HAVE_TORCH = importlib.util.find_spec("torch") is not None  # the independent gradient by autograd where installed


def two_layer(nodes: dict, *, second_from: dict | None = None, outputs=("y",), loss="half_sse",
              extra_inputs=(), data=None, **more) -> dict:
    """A 2-2-1 network whose hidden units h1, h2 feed ``nodes``; ``second_from`` is y's sources."""
    spec = {"name": "maps", "inputs": ["x1", "x2", *extra_inputs],
            "neurons": {"h1": {"from": {"x1": "w11", "x2": "w12"}, "activation": "tanh", "bias": "c1"},
                        "h2": {"from": {"x1": "w21", "x2": "w22"}, "activation": "tanh", "bias": "c2"},
                        "y": {"from": second_from or {"d1": "v1", "d2": "v2"}, "activation": "sigmoid",
                              "bias": "b"}},
            "nodes": nodes, "outputs": list(outputs), "loss": loss,
            "values": {"params": {"w11": 0.4, "w12": -0.7, "w21": 0.2, "w22": 0.5, "c1": -0.2, "c2": 0.1,
                                  "v1": 0.8, "v2": -0.6, "b": 0.05}},
            "learning_rate": 0.5}
    if data is None:
        spec["values"]["inputs"] = {"x1": 0.5, "x2": -0.3, **{m: 1.0 for m in extra_inputs}}
        spec["values"]["targets"] = {o: 0.9 for o in outputs}
    else:
        spec["data"] = data
    spec.update(more)
    return spec


# masks other than 0 and 1 too, so that a mask applied twice (m² = m at 0 and 1) shows
MASKED_DATA = [{"inputs": {"x1": 0.5, "x2": -0.3, "m1": 1, "m2": 0}, "targets": {"y": 1}},
               {"inputs": {"x1": -0.2, "x2": 0.8, "m1": 0.5, "m2": 2}, "targets": {"y": 0}},
               {"inputs": {"x1": 0.9, "x2": 0.1, "m1": 1.5, "m2": 0.25}, "targets": {"y": 1}}]


def network(layers: list[list[str]], activations: list[str], nodes: dict, outputs: list[str], *,
            sources: dict | None = None, inputs=("x1", "x2"), side=(), **more) -> dict:
    """A fully connected network by layers of neuron names; ``sources`` overrides what a
    layer reads (the maps' names); parameters ``w_<to>_<from>``, biases ``b_<neuron>``."""
    neurons, previous, values = {}, list(inputs), {}
    for names, act in zip(layers, activations):
        reads = (sources or {}).get(names[0], previous)
        for k, n in enumerate(names):
            neurons[n] = {"from": {src: f"w_{n}_{src}" for src in reads}, "activation": act, "bias": f"b_{n}"}
            for j, src in enumerate(reads):
                values[f"w_{n}_{src}"] = round(0.9 * ((-1) ** (j + k)) / (1 + j + k), 3)
            values[f"b_{n}"] = 0.1 * (k + 1)
        previous = names
    point = {"x1": 0.6, "x2": -0.4, **{m: 0.5 + 0.5 * i for i, m in enumerate(side)}}
    spec = {"name": "net", "inputs": [*inputs, *side], "neurons": neurons, "nodes": nodes,
            "outputs": outputs, "loss": "half_sse",
            "values": {"inputs": point, "params": values, "targets": {o: 0.3 + 0.2 * i for i, o in enumerate(outputs)}},
            "learning_rate": 0.5}
    spec.update(more)
    return spec

CASES = {
    # one line of matrix code: the same map on every unit, masks gathered from the inputs
    "uniform-masks": two_layer({"d1": "2*h1*m1", "d2": "2*h2*m2"}, extra_inputs=("m1", "m2"),
                               data=MASKED_DATA, reduction="mean"),
    # different maps per unit: row by row
    "mixed": two_layer({"d1": "h1**2", "d2": "3*h2"}),
    # a chain of two maps on one unit, the other unit unmapped
    "chain": two_layer({"d1": "2*h1", "e1": "exp(d1)"}, second_from={"e1": "v1", "h2": "v2"}),
    # a ReLU written as a node (away from its kink), with L2 over the weights
    "max-node": two_layer({"d1": "max(h1, 0)", "d2": "max(h2, 0)"}, regularization={"l2": 0.01}),
    # the output layer mapped: the loss reads the map's value (its target is t_z)
    "output-map": two_layer({"d1": "2*h1", "d2": "2*h2", "z": "3*y"}, outputs=("z",)),
    # the loss reads a mask that the hidden maps read too (it must be named in the matrix code)
    "loss-reads-a-mask": network([["h1", "h2"], ["y1", "y2"]], ["tanh", "sigmoid"],
                                 {"d1": "h1*m1", "d2": "h2*m2"}, ["y1", "y2"], side=("m1", "m2"),
                                 sources={"y1": ["d1", "d2"]},
                                 loss="m1*(out_y1 - t_y1)**2 + (out_y2 - t_y2)**2"),
    # three layers, maps after the first two (one with two masks per unit), a softmax output, a wrt subset
    "three-layers-softmax": network([["h1", "h2"], ["g1", "g2"], ["y1", "y2", "y3"]],
                                    ["tanh", "sigmoid", "softmax"],
                                    {"d1": "h1*m1 + m2", "d2": "h2*m2 + m1", "e1": "g1**2", "e2": "exp(g2)"},
                                    ["y1", "y2", "y3"], side=("m1", "m2"),
                                    sources={"g1": ["d1", "d2"], "y1": ["e1", "e2"]}, loss="cross_entropy",
                                    wrt=["w_h1_x1", "w_g2_d1", "w_y3_e2", "b_y1"]),
    # some outputs mapped, listed out of the neurons' order
    "partial-outputs": network([["h1", "h2"], ["y1", "y2"]], ["sigmoid", "identity"],
                               {"z2": "3*y2"}, ["z2", "y1"], regularization={"l2": 0.02}),
}


def _write(tmp_path, spec: dict):
    path = tmp_path / f"{spec['name']}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture(params=sorted(CASES))
def case(request, tmp_path):
    path = _write(tmp_path, CASES[request.param])
    return request.param, path, derive(load_spec(path))


def _independent(path) -> dict[str, float]:
    raw = reference.load(path)
    return reference.torch_gradient(raw, {}) if HAVE_TORCH else reference.finite_difference_gradient(raw, {})


def test_layer_view_of_mapped_layers_equals_the_scalar_and_an_independent_gradient(case):
    name, path, d = case
    view = layer_view(d)  # asserts every entry against the scalar derivation
    assert view.max_difference < 1e-9
    assert any(layer.mapped for layer in view.layers)
    numbers = layer_numbers(view, exact=False)
    matrix_grads = {}
    for pname, kind, number, r, c in view.entries():
        grads = numbers.weight_gradients if kind == "W" else numbers.bias_gradients
        matrix_grads[pname] = matrix_grads.get(pname, 0.0) + float(grads[number - 1][r, c])
    expected = _independent(path)
    fd = reference.finite_difference_gradient(reference.load(path), {})
    assert set(matrix_grads) >= set(expected)
    for p, value in expected.items():
        assert matrix_grads[p] == pytest.approx(value, rel=1e-7, abs=1e-10), p
        assert matrix_grads[p] == pytest.approx(fd[p], rel=1e-5, abs=1e-8), p
        assert d.numbers.gradients[p] == pytest.approx(value, rel=1e-9, abs=1e-12), p
    assert float(numbers.loss) == pytest.approx(float(reference.total_loss(reference.load(path), {})), rel=1e-12)


def test_matrix_code_accepts_mapped_layers_and_agrees_with_the_scalar_code(case):
    name, path, d = case
    assert layered_structure(d.spec, d.per_example.network) is not None
    matrix = numeric_function(d, form="auto")
    scalar = numeric_function(d, form="scalar")
    assert matrix.form == "matrix" and scalar.form == "scalar"
    rng = np.random.default_rng(7)
    batch = 5
    inputs = {x: rng.uniform(-1, 1, batch) for x in d.spec.inputs}
    for m in find_maps(d.network).side_inputs:  # masks: 0, 1 and others
        inputs[m] = rng.choice([0.0, 1.0, 0.5, 2.0], batch)
    params = {p: float(v) for p, v in d.spec.params_values.items()}
    targets = {o: rng.uniform(0.1, 0.9, batch) for o in d.spec.outputs}
    loss_m, grad_m = matrix(inputs, params, targets)
    loss_s, grad_s = scalar(inputs, params, targets)
    assert loss_m == pytest.approx(loss_s, rel=1e-12)
    for p in grad_s:
        assert grad_m[p] == pytest.approx(grad_s[p], rel=1e-10, abs=1e-13), p
    forward_m, forward_s = matrix.forward(inputs, params), scalar.forward(inputs, params)
    assert set(forward_m) == set(forward_s)
    for key in forward_s:
        np.testing.assert_allclose(forward_m[key], forward_s[key], rtol=1e-12, err_msg=str(key))


def test_matrix_code_of_the_spec_values_gives_the_derivation_numbers(case):
    name, path, d = case
    f = numeric_function(d)
    examples = d.spec.examples
    inputs = {x: [float(ex.inputs[x]) for ex in examples] for x in d.spec.inputs}
    targets = {o: [float(ex.targets[o]) for ex in examples] for o in d.spec.outputs}
    params = {p: float(v) for p, v in d.spec.params_values.items()}
    loss, grads = f(inputs, params, targets)
    assert loss == pytest.approx(d.numbers.forward[d.loss_name], rel=1e-12)
    for p, value in d.numbers.gradients.items():
        assert grads[p] == pytest.approx(value, rel=1e-10, abs=1e-13), p


def test_uniform_maps_are_one_line_of_matrix_code_and_mixed_ones_row_by_row(tmp_path):
    from symbackprop.codegen import module_source
    uniform = derive(spec_from_mapping(CASES["uniform-masks"]))
    source = module_source(uniform)
    assert "_H1 = 2*_A1*_S1_0" in source and "_X0 = _X[_IX]" in source
    assert "_D1 *= 2*_S1_0" in source
    mixed = module_source(derive(spec_from_mapping(CASES["mixed"])))
    assert "_H1 = numpy.stack((" in mixed and "_D1[0] *= " in mixed


def test_json_and_text_state_the_maps():
    d = derive(load_spec(EXAMPLES / "dropout-mask.yaml"))
    out = layer_view_dict(layer_view(d))
    hidden = out["layers"]["1"]
    assert hidden["maps"] == {"d1": "3*m1*out_h1/2", "d2": "3*m2*out_h2/2", "d3": "3*m3*out_h3/2"}
    assert hidden["sources"] == ["x1", "x2"]                       # the masks are no source
    assert out["layers"]["2"]["sources"] == ["d1", "d2", "d3"]
    assert hidden["activation_jacobian"][1][1] == "3*m2__1*out_h2__1*(1 - out_h2__1)/2"  # example 1's
    # outs are the maps' values (what layer 2 reads), neuron_outs the sigmoids
    values = hidden["values"]
    assert values["outs"][0][1] == 0.0  # example 1 drops unit 2, example 2 keeps it
    assert values["outs"][1][1] == pytest.approx(1.5 * values["neuron_outs"][1][1])
    assert "maps" not in out["layers"]["2"]
    from symbackprop.render.text import text_report
    text = text_report({**d.to_dict(), "layer_view": out})
    assert "then element-wise: d1 = 3*m1*out_h1/2; d2 = 3*m2*out_h2/2; d3 = 3*m3*out_h3/2" in text


def test_the_shipped_dropout_example_matches_its_independent_figures_in_matrix_form():
    """The layer view's own numbers against ``examples/independent/dropout-mask.py``."""
    expected = {c["key"]: c["value"] for c in
                json.loads((EXAMPLES / "dropout-mask.expected.json").read_text())["checks"]}
    view = layer_view(derive(load_spec(EXAMPLES / "dropout-mask.yaml")))
    n = layer_numbers(view)
    W1, W2 = (m.tolist() for m in n.weight_gradients)
    for j in range(3):
        for i in range(2):
            assert float(W1[j][i]) == pytest.approx(expected[f"gradients.w{j + 1}{i + 1}.value"], abs=1e-12)
        for k in range(2):
            assert float(W2[k][j]) == pytest.approx(expected[f"gradients.v{k + 1}{j + 1}.value"], abs=1e-12)
    for ex in n.examples:
        for j in range(3):  # δ of the mean loss = s · the layer view's per-example δ
            assert float(view.scale * ex.deltas[0][j]) == pytest.approx(
                expected[f"deltas.h{j + 1}__{ex.example}.value"], abs=1e-12)
            assert float(ex.outs[0][j]) == pytest.approx(expected[f"forward.d{j + 1}.value.{ex.example - 1}"])
    assert float(n.loss_after) == pytest.approx(expected["loss_after_update"], abs=1e-12)


def _with(spec: dict, **params) -> dict:
    spec["values"]["params"].update(params)
    return spec


REFUSED = {
    "a parameter": (two_layer({"d1": "g*h1", "d2": "h2"}, params=["g"]), "nodes.d1", "uses the parameter 'g'"),
    "the loss reading a mapped unit": (two_layer({"d1": "2*y"}, outputs=("y", "d1"),
                                                 second_from={"h1": "v1", "h2": "v2"}), "nodes.d1",
                                       "'y' feeds both the map 'd1' and 'E'"),
    "an input that feeds neurons": (two_layer({"d1": "h1 + x1", "d2": "h2"}), "nodes.d1",
                                    "reads the input 'x1', which also feeds neurons"),
    "two units": (two_layer({"d1": "h1*h2", "d2": "h2"}), "nodes.d1", "reads h1 and h2"),
    "a constant": (two_layer({"d1": "h1", "d2": "0*h2"}), "nodes.d2", "reads no neuron"),
    "a unit read twice": (two_layer({"d1": "2*h1", "d2": "h2"}, second_from={"d1": "v1", "h1": "v2"}),
                          "nodes.d1", "'h1' feeds both the map 'd1' and 'y'"),
    "a hidden map as an output": (two_layer({"d1": "2*h1", "d2": "h2"}, outputs=("y", "d1")), "nodes.d1",
                                  "'d1' (the map of 'h1') is an output but not in the last layer"),
    "an input's map": (_with(two_layer({"d1": "h1", "d2": "h2", "s": "2*r"}, extra_inputs=("r",),
                                       second_from={"d1": "v1", "d2": "v2", "s": "v3"}), v3=0.7),
                       "nodes.s", "reads no neuron (only inputs and numbers)"),
}


@pytest.mark.parametrize("what", sorted(REFUSED))
def test_nodes_that_are_no_element_wise_map_are_refused_by_key(what):
    spec, key, words = REFUSED[what]
    spec["values"]["params"].update({p: 1.5 for p in spec.get("params", ())})
    d = derive(spec_from_mapping(spec))
    with pytest.raises(NotLayered) as info:
        layer_view(d)
    assert info.value.key == key and words in str(info.value)
    assert numeric_function(d).form == "scalar"  # the generated code falls back to scalar form
    with pytest.raises(ValueError, match="not a layered network"):
        numeric_function(d, form="matrix")


def test_the_cli_refuses_a_node_that_is_no_map_in_one_line(tmp_path):
    from click.testing import CliRunner

    from symbackprop.cli import main
    spec, key, words = REFUSED["two units"]
    path = _write(tmp_path, spec)
    for args in (["derive", str(path), "--notation", "matrix"],
                 ["render", str(path), "--template", "matrix", "-o", str(tmp_path / "out")]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and f"{key}: " in lines[0] and words in lines[0], result.output
        assert "Traceback" not in result.output

"""The spec loader: generated names, exact numbers, and errors that name the key."""
from __future__ import annotations

import json

import pytest
import sympy as sp

from symbackprop import SpecError, load_spec, spec_from_mapping


def test_layers_generate_the_documented_names():
    spec = spec_from_mapping({"name": "l", "layers": [2, 3, 2], "activations": ["tanh", "identity"],
                              "bias": True, "loss": "mse"})
    assert spec.inputs == ("x1", "x2")
    assert list(spec.neurons) == ["h1_1", "h1_2", "h1_3", "y1", "y2"]
    assert spec.outputs == ("y1", "y2")
    assert spec.neurons["h1_2"].sources == (("x1", "w1_2_1"), ("x2", "w1_2_2"))   # row 2 of W1
    assert spec.neurons["y1"].sources[2] == ("h1_3", "w2_1_3")
    assert spec.neurons["y2"].bias == "b2_2" and spec.neurons["y2"].activation == "identity"
    assert len(spec.parameters) == 2 * 3 + 3 * 2 + 3 + 2


def test_layers_with_named_inputs():
    spec = spec_from_mapping({"name": "l", "layers": [2, 1], "inputs": ["λ", "Ω"], "activation": "sigmoid",
                              "loss": "half_sse"})
    assert spec.neurons["y1"].sources == (("λ", "w1_1_1"), ("Ω", "w1_1_2"))


def test_numbers_are_exact_and_yaml_1_2_exponents_are_numbers(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\ninputs: [x]\nneurons: {o: {from: {x: w}, activation: identity}}\n"
                    "outputs: [o]\nloss: half_sse\nlearning_rate: 1e-3\n"
                    "values: {inputs: {x: 0.35}, params: {w: 2}, targets: {o: 1}}\n")
    spec = load_spec(path)
    assert spec.learning_rate == sp.Rational(1, 1000)
    assert spec.examples[0].inputs["x"] == sp.Rational(7, 20)


def test_json_specs_load_like_yaml(tmp_path):
    raw = {"name": "j", "inputs": ["x"], "neurons": {"o": {"from": {"x": "w"}, "activation": "relu"}},
           "outputs": ["o"], "loss": "sse"}
    path = tmp_path / "j.json"
    path.write_text(json.dumps(raw))
    assert load_spec(path).neurons == spec_from_mapping(raw).neurons


@pytest.mark.parametrize("raw,key,message", [
    ({"name": "a b"}, "name", "not usable as a file name"),
    ({"name": "a", "layers": [2, 0]}, "layers[1]", "positive integers"),
    ({"name": "a", "layers": [2, 1], "loss": "sse"}, "activation", "give 'activation'"),
    ({"name": "a", "inputs": ["x"], "neurons": {"o": {"from": {"x": "w"}}}, "outputs": ["o"], "loss": "sse"},
     "neurons.o.activation", "needs an 'activation'"),
    ({"name": "a", "inputs": ["x", "x"], "nodes": {"S": "x"}, "objective": "S"}, "inputs[1]", "listed twice"),
    ({"name": "a", "inputs": ["x"], "nodes": {"S": "x"}, "objective": "S", "loss": "sse"}, "loss", "not both"),
    ({"name": "a", "inputs": ["x"], "neurons": {"o": {"from": {"x": "w"}, "activation": "sigmoid"}},
      "outputs": ["o"], "loss": "sse", "backprop_weights": "updated"}, "backprop_weights", "needs a learning_rate"),
    ({"name": "a", "inputs": ["x"], "neurons": {"o": {"from": {"x": "w"}, "activation": "sigmoid", "alpha": 1}},
      "outputs": ["o"], "loss": "sse"}, "neurons.o.alpha", "only goes with activation leaky_relu"),
    ({"name": "a", "inputs": ["x"], "neurons": {"o": {"from": {"x": "w"}, "activation": "sigmoid"}},
      "outputs": ["o"], "loss": "sse", "data": [{"inputs": {"x": 1}, "targets": {}}],
      "values": {"params": {"w": 1}}}, "data[0].targets", "missing value for target of output 'o'"),
    ({"name": "a", "inputs": ["x"], "neurons": {"o": {"from": {"x": "w"}, "activation": "sigmoid"}},
      "outputs": ["o"], "loss": "sse", "reduction": "avg"}, "reduction", "'sum' or 'mean'"),
    ({"name": "a", "inputs": ["x"], "neurons": {"out_o": {"from": {"x": "w"}, "activation": "identity"},
      "o": {"from": {"x": "v"}, "activation": "identity"}}, "outputs": ["o"], "loss": "sse"},
     "out_o", "clashes with the symbol"),
    ({"name": "a", "inputs": ["x"], "neurons": {"o": {"from": {"x": "w__2"}, "activation": "identity"}},
      "outputs": ["o"], "loss": "sse"}, "neurons.o.from.x", "not a valid name"),
    ({"name": "a", "inputs": ["x"], "neurons": {"o": {"from": {"x": "w"}, "activation": "identity"}},
      "outputs": ["o"], "loss": "sse", "wrt": ["q"]}, "wrt[0]", "not a parameter or input"),
])
def test_errors_name_the_key(raw, key, message):
    with pytest.raises(SpecError) as info:
        spec_from_mapping(raw)
    assert info.value.key == key and message in info.value.message, str(info.value)

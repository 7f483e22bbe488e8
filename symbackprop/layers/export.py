"""The layer view as JSON (the ``layer_view`` key of ``symbackprop derive --notation matrix``).

Matrices are lists of rows; expressions are SymPy-readable strings in the spec's names plus
``layer__delta_<neuron>`` (= ``∂E⁽ᵖ⁾/∂a`` of that neuron for one example, without the ``1/N``);
numbers are floats, per-example vectors lists over the examples. A layer followed by
element-wise map nodes has ``maps`` (node → definition); its ``outs`` are then the maps' values
``h = φ(f(a))`` (what the next layer reads) and ``neuron_outs`` the activations ``f(a)``.

>>> from symbackprop import derive, load_spec
>>> from symbackprop.layers import layer_view
>>> out = layer_view_dict(layer_view(derive(load_spec("examples/we10-relu-one-step.yaml"))))
>>> out["layers"]["1"]["weights"], out["layers"]["1"]["values"]["gradient"]
([['W1_11', 'W1_12'], ['W1_21', 'W1_22']], [[-1.0, 0.0], [0.0, 0.0]])
"""
from __future__ import annotations

from typing import Any, Callable

from ..ordering import Texts
from .maps import map_definition
from .numbers import LayerNumbers, layer_numbers
from .view import LayerView, Matrix

VARIANT_NOTE = ("the layer view is the true gradient (through the old weights), not the lecture "
                "variant of backprop_weights: updated")
CONVENTION = ("weights[j][i] is the weight into neuron j of this layer from unit i of the layer "
              "before (row = target, column = source); 0 where there is no edge")


def _rows(m: Matrix | None, convert: Callable) -> list | None:
    """A matrix as a list of rows (None stays None); ``convert`` each entry (a printer or ``float``)."""
    return None if m is None else [[convert(m[r, c]) for c in range(m.cols)] for r in range(m.rows)]


def _vector(m: Matrix | None, convert: Callable) -> list | None:
    """A column vector as a list."""
    return None if m is None else [convert(v) for v in m]


def _values(n: LayerNumbers, i: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "weights": _rows(n.weights[i], float),
        "nets": [_vector(ex.nets[i], float) for ex in n.examples],
        "outs": [_vector(ex.outs[i], float) for ex in n.examples],
        "deltas": [_vector(ex.deltas[i], float) for ex in n.examples],
        "gradient": _rows(n.weight_gradients[i], float),
    }
    if n.view.layers[i].mapped:
        out["neuron_outs"] = [_vector(ex.neuron_outs[i], float) for ex in n.examples]
    if n.biases[i] is not None:
        out["biases"] = _vector(n.biases[i], float)
        out["bias_gradient"] = _vector(n.bias_gradients[i], float)
    if n.updated_weights is not None:
        out["updated_weights"] = _rows(n.updated_weights[i], float)
        if n.biases[i] is not None:
            out["updated_biases"] = _vector(n.updated_biases[i], float)
    return out


def _maps(d, layer) -> dict[str, str]:
    """Each map node's definition (in the spec's names), in the order they are applied."""
    return {node: str(map_definition(d.network, node)) for chain in layer.maps for node in chain}


def layer_view_dict(view: LayerView, numbers: LayerNumbers | None = None) -> dict[str, Any]:
    """The JSON form of ``view`` (numbers computed when the spec has values and none are given)."""
    d = view.derivation
    if numbers is None and d.numbers is not None:
        numbers = layer_numbers(view)
    first = view.examples[0]
    text = Texts()  # str of each entry, shared sub-expressions printed once for the whole view
    layers = {}
    for i, layer in enumerate(view.layers):
        entry: dict[str, Any] = {
            "units": list(layer.units), "sources": list(layer.sources), "activation": layer.activation,
            "weights": _rows(layer.weights, text), "biases": _vector(layer.biases, text),
            "activation_jacobian": _rows(first.activation_jacobians[i], text),
            "delta": _vector(first.delta_definitions[i], text),
            "gradient": _rows(view.weight_gradients[i], text),
            "bias_gradient": _vector(view.bias_gradients[i], text),
        }
        if layer.mapped:  # element-wise maps after the activation: h = φ(f(a))
            entry["maps"] = _maps(d, layer)
        if layer.number in d.spec.ties:  # tie: {W2: W1^T}
            source, transposed = d.spec.ties[layer.number]
            entry["tied"] = f"W{source}^T" if transposed else f"W{source}"
        if numbers is not None:
            entry["values"] = _values(numbers, i)
        layers[str(layer.number)] = entry
    out: dict[str, Any] = {"convention": CONVENTION, "scale": str(view.scale),
                           "loss_gradient": _rows(first.loss_gradient, text), "layers": layers,
                           "shared_parameters": view.shared(), "check_max_difference": view.max_difference}
    if d.is_variant:
        out["note"] = VARIANT_NOTE
    if numbers is not None:
        out["exact"] = numbers.exact
        out["loss"] = float(numbers.loss)
        if numbers.loss_after is not None:
            out["loss_after_update"] = float(numbers.loss_after)
    return out


__all__ = ["layer_view_dict", "CONVENTION"]

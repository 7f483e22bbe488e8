"""The layers: shorthand: generated names x{i}, h{l}_{j}, y{j}, w{l}_{j}_{i}, b{l}_{j}."""
from __future__ import annotations

import re
from typing import Any

from ..errors import SpecError
from .fields import as_list, as_mapping, as_names, as_string, describe, key_text
from .model import MAX_ENTITIES


def layered_neurons(raw: dict) -> tuple[tuple[str, ...], dict[str, dict], tuple[str, ...]]:
    """Expand ``layers: [2, 3, 2]`` into inputs, neuron mappings and outputs (the generated names of docs/spec.md)."""
    layers = as_list(raw["layers"], "layers")
    if len(layers) < 2:
        raise SpecError("needs at least an input and an output layer, e.g. [2, 3, 1]", key="layers")
    for i, width in enumerate(layers):
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise SpecError(f"layer widths must be positive integers, got {describe(width)}",
                            key=f"layers[{i}]")
    if sum(a * b for a, b in zip(layers, layers[1:])) > MAX_ENTITIES:
        raise SpecError(f"more than {MAX_ENTITIES} weights", key="layers")
    depth = len(layers) - 1
    if "activations" in raw:
        if "activation" in raw:
            raise SpecError("give either 'activation' or 'activations', not both", key="activations")
        acts = as_list(raw["activations"], "activations")
        if len(acts) != depth:
            raise SpecError(f"needs one activation per non-input layer ({depth}), got {len(acts)}",
                            key="activations")
    elif "activation" in raw:
        acts = [raw["activation"]] * depth
    else:
        raise SpecError("with 'layers', give 'activation' (or 'activations', one per layer)",
                        key="activation")
    for i, a in enumerate(acts):
        as_string(a, f"activations[{i}]" if "activations" in raw else "activation")
    bias = raw.get("bias", False)
    if not isinstance(bias, bool):
        raise SpecError("with 'layers', bias must be true or false", key="bias")
    if "inputs" in raw:
        inputs = as_names(raw["inputs"], "inputs")
        if len(inputs) != layers[0]:
            raise SpecError(f"layers[0] is {layers[0]} but {len(inputs)} inputs are named", key="inputs")
    else:
        inputs = tuple(f"x{i}" for i in range(1, layers[0] + 1))
    ties = layer_ties(raw.get("tie"), layers)
    previous = list(inputs)
    neurons: dict[str, dict] = {}
    for layer in range(1, depth + 1):
        names = [f"y{j}" if layer == depth else f"h{layer}_{j}" for j in range(1, layers[layer] + 1)]
        source, transposed = ties.get(layer, (layer, False))
        for j, name in enumerate(names, start=1):
            weight = (lambda i, j=j: f"w{source}_{i}_{j}") if transposed else (lambda i, j=j: f"w{source}_{j}_{i}")
            neuron = {"from": {src: weight(i) for i, src in enumerate(previous, start=1)},
                      "activation": acts[layer - 1]}
            if bias:
                neuron["bias"] = f"b{layer}_{j}"
            neurons[name] = neuron
        previous = names
    return inputs, neurons, tuple(previous)


_TIE_KEY = re.compile(r"^W([1-9][0-9]*)$")
_TIE_VALUE = re.compile(r"^W([1-9][0-9]*)(\^T|\^\{T\}|\.T)?$")


def layer_ties(raw: Any, layers: list[int]) -> dict[int, tuple[int, bool]]:
    """``tie: {W2: W1^T}``: layer 2's weights are layer 1's, transposed (``W1`` without ``^T``:
    the same matrix). Returns layer → (the layer whose weights it uses, transposed?).

    >>> layer_ties({"W2": "W1^T"}, [2, 1, 2])
    {2: (1, True)}
    """
    if raw is None:
        return {}
    ties: dict[int, tuple[int, bool]] = {}
    depth = len(layers) - 1
    for key, value in as_mapping(raw, "tie").items():
        where = f"tie.{key_text(key)}"
        k = _TIE_KEY.match(str(key))
        v = _TIE_VALUE.match("".join(value.split())) if isinstance(value, str) else None
        if not k or not 1 <= int(k.group(1)) <= depth:
            raise SpecError(f"a tied weight matrix is W<l> for a layer l of 1..{depth}", key=where)
        if v is None or not 1 <= int(v.group(1)) <= depth:
            raise SpecError(f"must be W<k> or W<k>^T for a layer k of 1..{depth}, got {describe(value)}", key=where)
        layer, source, transposed = int(k.group(1)), int(v.group(1)), v.group(2) is not None
        if source == layer:
            raise SpecError("a layer cannot be tied to itself", key=where)
        rows, cols = (layers[source - 1], layers[source]) if transposed else (layers[source], layers[source - 1])
        if (rows, cols) != (layers[layer], layers[layer - 1]):
            raise SpecError(f"W{layer} is {layers[layer]}×{layers[layer - 1]} but {value} is {rows}×{cols}",
                            key=where)
        ties[layer] = (source, transposed)
    for layer, (source, _) in ties.items():
        if source in ties:
            raise SpecError(f"W{source} is itself tied: tie W{layer} to the matrix W{source} is tied to",
                            key=f"tie.W{layer}")
    return ties

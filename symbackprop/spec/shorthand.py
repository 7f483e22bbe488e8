"""The layers: shorthand: generated names x{i}, h{l}_{j}, y{j}, w{l}_{j}_{i}, b{l}_{j}."""
from __future__ import annotations

from ..errors import SpecError
from .fields import as_list, as_names, as_string, describe
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
    previous = list(inputs)
    neurons: dict[str, dict] = {}
    for layer in range(1, depth + 1):
        names = [f"y{j}" if layer == depth else f"h{layer}_{j}" for j in range(1, layers[layer] + 1)]
        for j, name in enumerate(names, start=1):
            neuron = {"from": {src: f"w{layer}_{j}_{i}" for i, src in enumerate(previous, start=1)},
                      "activation": acts[layer - 1]}
            if bias:
                neuron["bias"] = f"b{layer}_{j}"
            neurons[name] = neuron
        previous = names
    return inputs, neurons, tuple(previous)

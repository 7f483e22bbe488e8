"""Values in matrix form for layered specs: ``W1: [[1, 0], [0, 1]]`` instead of six scalar names.

With ``layers:``, a value block may give whole vectors and matrices (the lectures' notation),
expanded here into the generated scalar names before the spec is validated:

- ``values.params``: ``W<l>`` a list of rows (row ``j`` = neuron ``j`` of layer ``l``, column
  ``i`` = unit ``i`` of the layer before) → ``w<l>_<j>_<i>``; ``b<l>`` a list → ``b<l>_<j>``;
- ``values.inputs`` / ``data[n].inputs``: ``x`` a list → the inputs in order;
- ``values.targets`` / ``data[n].targets``: ``y`` a list → the outputs' targets in order.

Scalar names may still be mixed in. A wrong shape is an error naming the key.

>>> raw = {"layers": [2, 1], "values": {"params": {"W1": [[1, 2]]}, "inputs": {"x": [3, 4]},
...        "targets": {"y": [5]}}}
>>> expand_matrix_values(raw)["values"]
{'params': {'w1_1_1': 1, 'w1_1_2': 2}, 'inputs': {'x1': 3, 'x2': 4}, 'targets': {'y1': 5}}
"""
from __future__ import annotations

import re
from typing import Any

from ..errors import SpecError
from .fields import number  # the spec's own number rules, with the entry's own key
from .model import MAX_ENTITIES

_MATRIX_KEY = re.compile(r"^([Wb])([1-9][0-9]*)$")


def _widths(raw: dict) -> list[int] | None:
    layers = raw.get("layers")
    if not isinstance(layers, list) or len(layers) < 2 or not all(
            isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in layers):
        return None  # the spec's own validation reports it

    if sum(layers) > MAX_ENTITIES or sum(a * b for a, b in zip(layers, layers[1:])) > MAX_ENTITIES:
        return None  # too large: refused by the spec's validation before any name is made
    return layers


def _vector(value: Any, length: int, key: str) -> list:

    if not isinstance(value, list) or len(value) != length or any(isinstance(v, (list, dict)) for v in value):
        raise SpecError(f"must be a list of {length} number{'s' if length != 1 else ''}", key=key)
    for i, v in enumerate(value):
        number(v, f"{key}[{i}]")
    return value


def _matrix(value: Any, rows: int, cols: int, key: str) -> list[list]:
    if not isinstance(value, list) or len(value) != rows:
        raise SpecError(f"must be a {rows}×{cols} matrix: a list of {rows} rows of {cols} numbers", key=key)
    for j, row in enumerate(value):
        _vector(row, cols, f"{key}[{j}]")
    return value


def _add(out: dict, names: dict, key: str) -> None:
    """Add the expanded ``names`` to ``out``; a name given twice is an error, not an overwrite."""
    twice = [n for n in names if n in out]
    if twice:
        raise SpecError(f"gives '{twice[0]}' again (it is also given on its own)", key=key)
    out.update(names)


def _expand_params(block: Any, widths: list[int], key: str, biases: bool) -> Any:
    if not isinstance(block, dict):
        return block
    is_matrix = {name: isinstance(name, str) and isinstance(value, list) and bool(_MATRIX_KEY.match(name))
                 for name, value in block.items()}
    out: dict = {name: value for name, value in block.items() if not is_matrix[name]}
    for name, value in block.items():
        if not is_matrix[name]:
            continue
        match = _MATRIX_KEY.match(name)
        kind, layer = match.group(1), int(match.group(2))
        where = f"{key}.{name}"
        if layer >= len(widths):
            raise SpecError(f"there is no layer {layer} (the network has {len(widths) - 1})", key=where)
        if kind == "W":
            rows = _matrix(value, widths[layer], widths[layer - 1], where)
            _add(out, {f"w{layer}_{j}_{i}": v for j, row in enumerate(rows, 1) for i, v in enumerate(row, 1)}, where)
        elif not biases:
            raise SpecError("the network has no biases (add 'bias: true')", key=where)
        else:
            _add(out, {f"b{layer}_{j}": v for j, v in enumerate(_vector(value, widths[layer], where), 1)}, where)
    return out


def _expand_vector(block: Any, vector: str, names: list[str], key: str) -> Any:
    if not isinstance(block, dict) or not isinstance(block.get(vector), list) or vector in names:
        return block
    out = {k: v for k, v in block.items() if k != vector}
    _add(out, dict(zip(names, _vector(block[vector], len(names), f"{key}.{vector}"))), f"{key}.{vector}")
    return out


def _expand_example(item: Any, inputs: list[str], outputs: list[str], key: str) -> Any:
    if not isinstance(item, dict):
        return item
    item = dict(item)
    if "inputs" in item:
        item["inputs"] = _expand_vector(item["inputs"], "x", inputs, f"{key}.inputs")
    if "targets" in item:
        item["targets"] = _expand_vector(item["targets"], "y", outputs, f"{key}.targets")
    return item


def expand_matrix_values(raw: dict) -> dict:
    """``raw`` with matrix-form values of a layered spec expanded to scalar names (see the module)."""
    widths = _widths(raw)
    if widths is None:
        return raw
    inputs = raw["inputs"] if isinstance(raw.get("inputs"), list) else [f"x{i}" for i in range(1, widths[0] + 1)]
    outputs = [f"y{j}" for j in range(1, widths[-1] + 1)]
    raw = dict(raw)
    if isinstance(raw.get("values"), dict):
        values = dict(raw["values"])
        if "params" in values:
            values["params"] = _expand_params(values["params"], widths, "values.params", raw.get("bias") is True)
        values = _expand_example(values, inputs, outputs, "values")
        raw["values"] = values
    if isinstance(raw.get("data"), list):
        raw["data"] = [_expand_example(item, inputs, outputs, f"data[{n}]") for n, item in enumerate(raw["data"])]
    return raw

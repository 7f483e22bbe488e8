"""Indexed scalar names and values given as nested lists, for the shorthands that generate names
(``recurrent:``, ``conv:``): ``W: [[1, 2], [3, 4]]`` → ``W_1_1 … W_2_2``.

>>> indexed("h", 3), indexed("W", 1, 2), indexed("k1", 2, 3)
('h_3', 'W_1_2', 'k1_2_3')
>>> entries([[1, 2], [3, 4]], (2, 2), "values.params.W")
{(1, 1): 1, (1, 2): 2, (2, 1): 3, (2, 2): 4}
"""
from __future__ import annotations

import itertools
from typing import Any

from ..errors import SpecError
from .fields import describe


def indexed(base: str, *index: int) -> str:
    """``base`` followed by ``_i`` for each index (1-based, as the lectures count)."""
    return base + "".join(f"_{i}" for i in index)


def shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(s) for s in shape)


def entries(value: Any, shape: tuple[int, ...], key: str) -> dict[tuple[int, ...], Any]:
    """A nested list of ``shape`` (a plain number for the shape ``()``) → ``{index: number}``,
    1-based; a wrong shape is one error naming the key. Numbers are checked later, by name."""
    if not shape:
        if isinstance(value, (list, dict)):
            raise SpecError(f"must be a number, got {describe(value)}", key=key)
        return {(): value}
    if not isinstance(value, list) or len(value) != shape[0]:
        what = "a list of" if len(shape) == 1 else f"a {shape_text(shape)} array: a list of"
        raise SpecError(f"must be {what} {shape[0]} {'numbers' if len(shape) == 1 else 'rows'}", key=key)
    out: dict[tuple[int, ...], Any] = {}
    for i, item in enumerate(value, start=1):
        for index, v in entries(item, shape[1:], f"{key}[{i - 1}]").items():
            out[(i, *index)] = v
    return out


def positions(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Every 1-based index of an array of ``shape``, row by row."""
    return list(itertools.product(*(range(1, s + 1) for s in shape)))


def add_named(out: dict, names: dict, key: str) -> None:
    """Add expanded ``names`` to ``out``; a name given twice is an error, not an overwrite."""
    twice = [n for n in names if n in out]
    if twice:
        raise SpecError(f"gives '{twice[0]}' again (it is also given on its own)", key=key)
    out.update(names)


def expand_arrays(block: Any, shapes: dict[str, tuple[int, ...]], key: str) -> Any:
    """A value block with every array-valued ``name`` in ``shapes`` replaced by its entries'
    names (``name_i_j``); scalars and names not in ``shapes`` pass through unchanged.

    >>> expand_arrays({"W": [[1, 2]], "c": 3}, {"W": (1, 2)}, "values.params")
    {'c': 3, 'W_1_1': 1, 'W_1_2': 2}
    """
    if not isinstance(block, dict):
        return block
    out = {k: v for k, v in block.items() if not (k in shapes and isinstance(v, list))}
    for name, value in block.items():
        if name in shapes and isinstance(value, list):
            add_named(out, {indexed(name, *i): v for i, v in entries(value, shapes[name], f"{key}.{name}").items()},
                      f"{key}.{name}")
    return out


def merge_generated(raw: dict, generated: dict, block: str) -> dict:
    """``raw`` with the keys a shorthand ``block`` generates; a key the user wrote as well must be
    exactly what the block generates (as in a spec that was expanded once already)."""
    for k, value in generated.items():
        if k in raw and raw[k] != value:
            raise SpecError(f"the {block} block generates the {k} itself", key=k)
    return {**raw, **generated}


def merge_nodes(raw: dict, generated: dict[str, str]) -> dict:
    """The spec's own ``nodes`` and a shorthand's generated ones; a name used for two different
    nodes is an error."""
    nodes = dict(raw.get("nodes") or {}) if isinstance(raw.get("nodes"), dict) else raw.get("nodes", {})
    if not isinstance(nodes, dict):
        return nodes   # the spec's validation reports it
    for name, text in generated.items():
        if name in nodes and nodes[name] != text:
            raise SpecError("is a name the shorthand generates (choose another)", key=f"nodes.{name}")
        nodes[name] = text
    return nodes

"""The values and data blocks: every input, parameter and target value, exact, checked against the network's names."""
from __future__ import annotations

from typing import Any, Mapping

import sympy as sp

from ..errors import SpecError
from .fields import (
    as_list,
    as_mapping,
    check_name,
    key_text,
    number,
    refuse_unknown_keys,
)
from ..suggest import did_you_mean
from .model import MAX_EXAMPLES, MAX_VALUES, Example


def _values_block(raw: Any, key: str, allowed: set[str] | tuple[str, ...], what: str) -> dict[str, sp.Rational]:
    block = as_mapping(raw, key)
    out = {}
    for k, v in block.items():
        name = check_name(k, f"{key}.{key_text(k)}")
        if name not in allowed:
            raise SpecError(f"not {what} of this network{did_you_mean(name, allowed)}", key=f"{key}.{key_text(k)}")
        if name in out:
            raise SpecError("the same name as another key after Unicode normalisation", key=f"{key}.{key_text(k)}")
        out[name] = number(v, f"{key}.{key_text(k)}")
    return out


def _require_all(given: Mapping[str, Any], needed, key: str, what: str) -> None:
    missing = [n for n in needed if n not in given]
    if missing:
        raise SpecError(f"missing value for {what} {', '.join(repr(m) for m in missing[:5])}"
                        + (" ..." if len(missing) > 5 else ""), key=key)


def check_namespace(inputs, neurons, nodes, parameters) -> None:
    """Every user name means one thing, and none clashes with a derived symbol."""
    owner: dict[str, str] = {}
    for kind, names in (("input", inputs), ("neuron", neurons), ("node", nodes),
                        ("parameter", parameters)):
        for n in names:
            if n in owner:
                raise SpecError(f"'{n}' is both a{'n' if owner[n][0] in 'aeiou' else ''} "
                                f"{owner[n]} and a{'n' if kind[0] in 'aeiou' else ''} {kind}", key=n)
            owner[n] = kind
    for n in list(neurons) + list(nodes):
        for derived in (f"net_{n}", f"out_{n}", f"t_{n}", f"delta_{n}"):
            if derived in owner:
                raise SpecError(f"'{derived}' clashes with the symbol the tool derives from '{n}'",
                                key=derived)


def _targets(block: dict, key: str, output_set: set[str], needed, targets_from: Mapping[str, str],
             inputs: Mapping[str, sp.Rational]) -> dict[str, sp.Rational]:
    """An example's targets: as given (those the loss uses required), or copied from its inputs."""
    if targets_from:
        if block:
            raise SpecError("the targets are the inputs ('targets: inputs'): give no targets", key=key)
        return {o: inputs[i] for o, i in targets_from.items() if i in inputs}
    tgs = _values_block(block, key, output_set, "an output")
    _require_all(tgs, needed, key, "target of output")
    return tgs


def spec_values(raw: dict, inputs, parameters, outputs, needed=None,
                targets_from: Mapping[str, str] | None = None) -> tuple[dict | None, tuple[Example, ...]]:
    """Parameter values and the examples; ``needed``: the outputs whose targets the loss uses
    (default all), ``targets_from``: output → input whose value is its target."""
    input_set, output_set = set(inputs), set(outputs)
    needed = tuple(outputs) if needed is None else tuple(needed)
    targets_from = targets_from or {}
    values = as_mapping(raw["values"], "values") if "values" in raw else {}
    refuse_unknown_keys(values, {"inputs", "params", "targets"}, "values")
    params_values = None
    if "params" in values:
        params_values = _values_block(values["params"], "values.params", set(parameters), "a parameter")
    examples: list[Example] = []
    if "data" in raw:
        for k in ("inputs", "targets"):
            if k in values:
                raise SpecError("give inputs and targets in 'data' or in 'values', not both",
                                key=f"values.{k}")
        data = as_list(raw["data"], "data")
        if not data:
            raise SpecError("needs at least one example", key="data")
        if len(data) > MAX_EXAMPLES:
            raise SpecError(f"more than {MAX_EXAMPLES} examples", key="data")
        if len(data) * (len(inputs) + len(outputs)) > MAX_VALUES:
            raise SpecError(f"more than {MAX_VALUES:,} input and target values (examples × "
                            "(inputs + outputs))", key="data")
        for i, item in enumerate(data):
            key = f"data[{i}]"
            item = as_mapping(item, key)
            refuse_unknown_keys(item, {"inputs", "targets"}, key)
            ins = _values_block(item.get("inputs", {}), f"{key}.inputs", input_set, "an input")
            _require_all(ins, inputs, f"{key}.inputs", "input")
            tgs = _targets(item.get("targets", {}), f"{key}.targets", output_set, needed, targets_from, ins)
            examples.append(Example(ins, tgs))
    elif "inputs" in values or "targets" in values:
        ins = _values_block(values.get("inputs", {}), "values.inputs", input_set, "an input")
        _require_all(ins, inputs, "values.inputs", "input")
        tgs = _targets(values.get("targets", {}), "values.targets", output_set, needed, targets_from, ins)
        examples.append(Example(ins, tgs))
    if examples and params_values is None and not parameters:
        params_values = {}
    if params_values is not None or examples:
        _require_all(params_values or {}, parameters, "values.params", "parameter")
        if not examples:
            _require_all({}, list(inputs) + [f"t_{o}" for o in needed if o not in targets_from],
                         "values", "input/target")
            if not inputs and not needed:
                examples.append(Example({}, {}))
    return params_values, tuple(examples)

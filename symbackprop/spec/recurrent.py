"""The ``recurrent:`` shorthand: an RNN unrolled over its time steps into ordinary neurons.

``h_t = f(W·h_{t−1} + U·x_t + b)``, ``y_t = g(V·h_t + c)`` for ``t = 1 … T``, with ``h_0`` fixed.
Every time step is a copy of the same neurons, and W, U, V, b, c are *one* parameter each
(shared by every step), so the unrolled network is one DAG: its paths and cached backprop
are backpropagation through time, ``δ_{h_t} = f′(net_{h_t})·(W·δ_{h_{t+1}} + V·δ_{y_t})``.

Generated names (a size of 1 drops the unit index): inputs ``x_t`` (``x_t_i``); the fixed
initial state ``h_0`` (``h_0_j``), a constant node; neurons ``h_t`` (``h_t_j``) and ``y_t`` (``y_t_k``); parameters ``W``
(``W_j_l``, state → state), ``U`` (``U_j_i``, input → state), ``V`` (``V_k_j``, state →
output), biases ``b`` (``b_j``) and ``c`` (``c_k``). Values may give ``W`` etc. as nested lists
and the inputs and targets as ``values.sequence: [{x: …, t: …}, …]`` (one entry per step; a
target ``t`` at each step that has an output).

>>> raw = expand_recurrent({"name": "r", "recurrent": {"steps": 2}, "loss": "half_sse"})
>>> raw["inputs"], raw["nodes"], raw["outputs"], raw["neurons"]["h_2"]
(['x_1', 'x_2'], {'h_0': '0'}, ['y_2'], {'from': {'x_2': 'U', 'h_1': 'W'}, 'activation': 'tanh', 'bias': 'b'})
>>> detached_edges(expand_recurrent({"name": "r", "recurrent": {"steps": 5, "truncate": 2}}))
(('h_3', 'h_4'), ('h_1', 'h_2'))
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import SpecError
from .arrays import entries, expand_arrays, indexed, merge_generated, merge_nodes
from .fields import as_list, as_mapping, as_string, describe, number, refuse_unknown_keys
from .model import MAX_ENTITIES

KEYS = {"steps", "inputs", "state", "outputs", "activation", "output_activation", "bias", "h0",
        "loss_at", "truncate"}
GENERATED = ("inputs", "neurons", "outputs")   # keys the block writes itself
LOSS_AT = ("last", "every")


@dataclass(frozen=True)
class Recurrent:
    """The validated ``recurrent:`` block."""

    steps: int
    inputs: int = 1
    state: int = 1
    outputs: int = 1
    activation: str = "tanh"
    output_activation: str = "identity"
    bias: bool = True
    h0: tuple[Any, ...] = (0,)
    loss_at: str = "last"
    truncate: int | None = None

    def x(self, t: int, i: int) -> str:
        return indexed("x", t) if self.inputs == 1 else indexed("x", t, i)

    def h(self, t: int, j: int) -> str:
        return indexed("h", t) if self.state == 1 else indexed("h", t, j)

    def y(self, t: int, k: int) -> str:
        return indexed("y", t) if self.outputs == 1 else indexed("y", t, k)

    def param(self, base: str, rows: int, cols: int | None, j: int, i: int = 1) -> str:
        if cols is None:
            return base if rows == 1 else indexed(base, j)
        return base if rows == 1 and cols == 1 else indexed(base, j, i)

    @property
    def output_steps(self) -> list[int]:
        return list(range(1, self.steps + 1)) if self.loss_at == "every" else [self.steps]

    @property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        """The parameters' array shapes, for values given as nested lists."""
        return {"W": (self.state, self.state), "U": (self.state, self.inputs),
                "V": (self.outputs, self.state), "b": (self.state,), "c": (self.outputs,)}


def _size(block: dict, name: str, default: int, key: str) -> int:
    value = block.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError(f"must be a positive integer, got {describe(value)}", key=f"{key}.{name}")
    return value


def _sequence(raw: dict) -> list | None:
    values = raw.get("values")
    if isinstance(values, dict) and "sequence" in values:
        return as_list(values["sequence"], "values.sequence")
    data = raw.get("data")
    if isinstance(data, list) and data and isinstance(data[0], dict) and "sequence" in data[0]:
        return as_list(data[0]["sequence"], "data[0].sequence")
    return None


def read_recurrent(raw: dict) -> Recurrent:
    """The ``recurrent:`` block of ``raw``, validated (steps from ``steps:`` or the sequence)."""
    key = "recurrent"
    block = as_mapping(raw[key], key)
    refuse_unknown_keys(block, KEYS, key)
    sequence = _sequence(raw)
    if "steps" in block:
        steps = _size(block, "steps", 1, key)
        if sequence is not None and len(sequence) != steps:
            raise SpecError(f"steps is {steps} but the sequence has {len(sequence)} entries", key=f"{key}.steps")
    elif sequence is not None:
        steps = len(sequence)
        if not steps:
            raise SpecError("needs at least one time step", key="values.sequence")
    else:
        raise SpecError("give 'steps: T' (or the inputs as values.sequence)", key=f"{key}.steps")
    sizes = {n: _size(block, n, 1, key) for n in ("inputs", "state", "outputs")}
    per_step = sizes["state"] * (sizes["state"] + sizes["inputs"] + sizes["outputs"] + 3) + sizes["outputs"] * 2
    if steps * per_step > MAX_ENTITIES:
        raise SpecError(f"unrolled, more than {MAX_ENTITIES} neurons and weighted edges", key=key)
    bias = block.get("bias", True)
    if not isinstance(bias, bool):
        raise SpecError("must be true or false", key=f"{key}.bias")
    loss_at = block.get("loss_at", "last")
    if loss_at not in LOSS_AT:
        raise SpecError(f"must be 'last' or 'every', got {describe(loss_at)}", key=f"{key}.loss_at")
    h0 = block.get("h0", 0)
    h0_values = tuple(entries(h0, (sizes["state"],), f"{key}.h0").values()) if isinstance(h0, list) \
        else (h0,) * sizes["state"]
    for j, v in enumerate(h0_values):
        number(v, f"{key}.h0" + (f"[{j}]" if isinstance(h0, list) else ""))
    truncate = block.get("truncate")
    if truncate is not None:
        if isinstance(truncate, bool) or not isinstance(truncate, int) or not 1 <= truncate < steps:
            raise SpecError(f"must be an integer from 1 to {steps - 1} (the number of steps the δs are "
                            f"carried back; {steps} or more is the full gradient), got {describe(truncate)}",
                            key=f"{key}.truncate")
    return Recurrent(steps=steps, **sizes, bias=bias, h0=h0_values, loss_at=loss_at, truncate=truncate,
                     activation=as_string(block.get("activation", "tanh"), f"{key}.activation"),
                     output_activation=as_string(block.get("output_activation", "identity"),
                                                 f"{key}.output_activation"))


def _neurons(r: Recurrent) -> dict[str, dict]:
    neurons: dict[str, dict] = {}
    for t in range(1, r.steps + 1):
        for j in range(1, r.state + 1):
            sources = {r.x(t, i): r.param("U", r.state, r.inputs, j, i) for i in range(1, r.inputs + 1)}
            sources.update({r.h(t - 1, m): r.param("W", r.state, r.state, j, m) for m in range(1, r.state + 1)})
            neurons[r.h(t, j)] = {"from": sources, "activation": r.activation}
            if r.bias:
                neurons[r.h(t, j)]["bias"] = r.param("b", r.state, None, j)
        if t in r.output_steps:
            for k in range(1, r.outputs + 1):
                y = {"from": {r.h(t, j): r.param("V", r.outputs, r.state, k, j) for j in range(1, r.state + 1)},
                     "activation": r.output_activation}
                if r.bias:
                    y["bias"] = r.param("c", r.outputs, None, k)
                neurons[r.y(t, k)] = y
    return neurons


def _step_values(r: Recurrent, sequence: list, key: str) -> tuple[dict, dict]:
    """``sequence: [{x: …, t: …}, …]`` → the inputs (with ``h_0``) and targets by generated name."""
    inputs: dict = {}
    targets: dict = {}
    for t, step in enumerate(sequence, start=1):
        where = f"{key}[{t - 1}]"
        step = as_mapping(step, where)
        refuse_unknown_keys(step, {"x", "t"}, where)
        if "x" not in step:
            raise SpecError("each step needs its input 'x'", key=where)
        shape = () if r.inputs == 1 else (r.inputs,)
        for index, v in entries(step["x"], shape, f"{where}.x").items():
            inputs[r.x(t, *(index or (1,)))] = v
        if t in r.output_steps:
            if "t" not in step:
                raise SpecError(f"step {t} has an output: give its target 't'", key=where)
            shape = () if r.outputs == 1 else (r.outputs,)
            for index, v in entries(step["t"], shape, f"{where}.t").items():
                targets[r.y(t, *(index or (1,)))] = v
        elif "t" in step:
            raise SpecError(f"step {t} has no output (loss_at: {r.loss_at}), so no target", key=f"{where}.t")
    return inputs, targets


def _example(r: Recurrent, block: dict, key: str) -> dict:
    block = dict(block)
    if "sequence" in block:
        for k in ("inputs", "targets"):
            if k in block:
                raise SpecError("give the inputs and targets in the sequence, not both", key=f"{key}.{k}")
        block["inputs"], block["targets"] = _step_values(r, as_list(block.pop("sequence"), f"{key}.sequence"),
                                                         f"{key}.sequence")
    return block


def _constant(value: Any) -> str:
    """A fixed number as the text of a constant node (its decimal text, read exactly)."""
    return repr(value) if isinstance(value, (int, float)) else str(value)


def expand_recurrent(raw: dict) -> dict:
    """``raw`` with its ``recurrent:`` block unrolled into inputs, neurons and outputs, and its
    values (arrays, ``sequence``) in the generated scalar names (see the module docstring)."""
    r = read_recurrent(raw)
    if "layers" in raw:
        raise SpecError("give either 'recurrent' or 'layers', not both", key="layers")
    generated = {"inputs": [r.x(t, i) for t in range(1, r.steps + 1) for i in range(1, r.inputs + 1)],
                 "neurons": _neurons(r),
                 "outputs": [r.y(t, k) for t in r.output_steps for k in range(1, r.outputs + 1)]}
    raw = merge_generated(raw, generated, "recurrent")
    raw["recurrent"] = {**raw["recurrent"], "steps": r.steps}   # once the sequence is expanded
    raw["nodes"] = merge_nodes(raw, {r.h(0, j): _constant(v) for j, v in enumerate(r.h0, start=1)})
    shapes = {n: s for n, s in r.shapes.items() if any(size > 1 for size in s)}
    if isinstance(raw.get("values"), dict):
        values = _example(r, raw["values"], "values")
        if "params" in values:
            values["params"] = expand_arrays(values["params"], shapes, "values.params")
        raw["values"] = values
    if isinstance(raw.get("data"), list):
        raw["data"] = [_example(r, item, f"data[{n}]") if isinstance(item, dict) else item
                       for n, item in enumerate(raw["data"])]
    return raw


def detached_edges(raw: dict) -> tuple[tuple[str, str], ...]:
    """For ``truncate: k``, the recurrent edges (source, neuron) whose δ is not carried back:
    the state is detached every ``k`` steps counting back from the last, as truncated BPTT
    does (``h.detach()`` before steps ``T − k + 1``, ``T − 2k + 1``, …). Empty without it."""
    block = raw.get("recurrent")
    if not isinstance(block, dict) or block.get("truncate") is None:
        return ()
    r = read_recurrent(raw)
    cut = []
    start = r.steps - r.truncate + 1
    while start >= 2:
        cut += [(r.h(start - 1, m), r.h(start, j)) for j in range(1, r.state + 1) for m in range(1, r.state + 1)]
        start -= r.truncate
    return tuple(cut)


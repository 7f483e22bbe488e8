"""What an exam variant draws: the spec's ``randomize`` mapping (or a default for its loss) as ranges.

Every number in the spec's values is a *leaf*: a parameter, an input or a target, of one
example (``data``) or one time step (``values.sequence``), a scalar or an entry of a vector or
kernel. A leaf is redrawn from its group's range unless its name is in ``fixed``; a per-name
range in ``ranges`` wins over the group's. Names are the spec's keys (``k1`` is every entry of
the kernel, ``k1_2`` one of them; a target is its output's name or ``t_<output>``)::

    randomize:
      params:  {low: -1, high: 1, step: 0.1}    # every parameter …
      inputs:  {low: 0, high: 1, step: 0.05}    # … input (of every example and step)
      targets: {one_hot: true}                  # or {values: [0, 1]} or {low, high, step}
      ranges:  {w_AT: {low: 0.1, high: 0.9, step: 0.1}}
      fixed:   [m1]                             # keep the spec's value
      allow:   [zero_value]                     # switch rules off (exams.rules)

A group left out keeps the spec's values. Without a ``randomize`` mapping the default draws
every group: weights and inputs on the 0.1 grid from −1 to 1, targets by the loss (one-hot for
cross-entropy, 0 or 1 for binary cross-entropy, the 0.1 grid over the output's range otherwise).

>>> from symbackprop import load_spec
>>> plan = draw_plan(load_spec("examples/we07c-softmax-ce.yaml"))
>>> plan.groups["targets"], plan.groups["params"]
(OneHot(), Grid(low=-1, high=1, step=1/10, nonzero=True))
>>> import random
>>> raw, drawn, targets = plan.draw(random.Random(1))
>>> sum(raw["values"]["targets"].values()), sorted(drawn)[:3]
(1, ['c1', 'c2', 'c3'])
"""
from __future__ import annotations

import copy
import random
import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterator, Mapping, Sequence, Union

import sympy as sp

from ..errors import SpecError
from ..spec import Spec, key_text, number

GROUPS = ("params", "inputs", "targets")
RANGE_KEYS = ("low", "high", "step")
MAX_GRID = 1_000_000
MAX_CHOICES = 100
DEFAULT_GRID = (-1, 1, sp.Rational(1, 10))
UNIT_INTERVAL = (0, 1, sp.Rational(1, 10))
BOUNDED_OUTPUTS = {"sigmoid": UNIT_INTERVAL, "softmax": UNIT_INTERVAL, "tanh": DEFAULT_GRID}


def _plain(value: sp.Rational) -> int | float:
    return int(value) if value.is_integer else float(value)


@dataclass(frozen=True)
class Grid:
    """The values ``low, low + step, …`` up to ``high`` (exact rationals)."""

    low: sp.Rational
    high: sp.Rational
    step: sp.Rational
    nonzero: bool = False          # leave 0 out (the default grids: a zero weight cuts its paths)

    @property
    def size(self) -> int:
        return int((self.high - self.low) / self.step) + 1

    def draw(self, rng: random.Random) -> int | float:
        while True:
            value = self.low + self.step * rng.randrange(self.size)
            if value != 0 or not self.nonzero or self.size == 1:
                return _plain(value)

    def words(self) -> str:
        return (f"from {_plain(self.low)} to {_plain(self.high)} in steps of {_plain(self.step)}"
                + (", not 0" if self.nonzero else ""))


@dataclass(frozen=True)
class Choice:
    """One of a few listed values (targets ``{values: [0, 1]}``)."""

    values: tuple[sp.Rational, ...]

    def draw(self, rng: random.Random) -> int | float:
        return _plain(self.values[rng.randrange(len(self.values))])

    def words(self) -> str:
        return "one of " + ", ".join(str(_plain(v)) for v in self.values)


@dataclass(frozen=True)
class OneHot:
    """Targets one-hot per example (and time step): one output 1, the others 0."""

    def words(self) -> str:
        return "one-hot (one output 1, the others 0)"


Draw = Union[Grid, Choice, OneHot]


@dataclass(frozen=True)
class Leaf:
    """One number of the spec's values: its group, its names and where it sits in the raw mapping."""

    group: str
    key: str                       # the spec's key (``k1``, ``x``, ``W``, an output for a target)
    name: str                      # this entry (``k1_2``; ``x__2`` in example 2; ``x_3`` at step 3; ``t_F``)
    path: tuple[Any, ...]
    unit: tuple[Any, ...]          # the target mapping it belongs to (one-hot draws one per unit)

    def called(self, names: set[str]) -> bool:
        """Whether ``names`` (``fixed``, ``ranges``) mean this leaf."""
        base = self.name.split("__")[0]
        keys = {self.key, self.name, base}
        if self.group == "targets":
            keys |= {f"t_{k}" for k in set(keys)}
        if keys & names:
            return True
        # a shorthand's vector or kernel by its name: k1 is k1_1, k1_2, …
        return any(base.startswith(n + "_") and base[len(n) + 1:].replace("_", "").isdigit() for n in names)


def _walk(value: Any, name: str, path: tuple) -> Iterator[tuple[str, tuple]]:
    """``(entry name, path)`` of every number under ``value`` (a number or nested lists)."""
    if isinstance(value, list):
        for i, item in enumerate(value, start=1):
            yield from _walk(item, f"{name}_{i}", path + (i - 1,))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield name, path


def _mapping_leaves(body: Any, group: str, path: tuple, suffix: str = "") -> Iterator[Leaf]:
    if not isinstance(body, Mapping):
        return
    for key, value in body.items():
        for name, at in _walk(value, f"t_{key}" if group == "targets" else str(key), path + (key,)):
            yield Leaf(group, str(key), name + suffix, at, path)


def leaves(raw: Mapping[str, Any]) -> list[Leaf]:
    """Every number of a spec's raw ``values`` and ``data``, in the file's order."""
    out: list[Leaf] = []
    values = raw.get("values") or {}
    if isinstance(values, Mapping):
        for group in GROUPS:
            out += _mapping_leaves(values.get(group), group, ("values", group))
        for step, item in enumerate(values.get("sequence") or [], start=1):
            out += _sequence_leaves(item, ("values", "sequence", step - 1), f"_{step}")
    for i, example in enumerate(raw.get("data") or [], start=1):
        if not isinstance(example, Mapping):
            continue
        for group in ("inputs", "targets"):
            out += _mapping_leaves(example.get(group), group, ("data", i - 1, group), f"__{i}")
        for step, item in enumerate(example.get("sequence") or [], start=1):
            out += _sequence_leaves(item, ("data", i - 1, "sequence", step - 1), f"_{step}__{i}")
    return out


def _sequence_leaves(item: Any, path: tuple, suffix: str) -> Iterator[Leaf]:
    if not isinstance(item, Mapping):
        return
    for key, group in (("x", "inputs"), ("t", "targets")):
        if key in item:
            for name, at in _walk(item[key], key, path + (key,)):
                yield Leaf(group, key, name + suffix, at, path)


def _set(raw: Any, path: tuple, value: Any) -> None:
    for step in path[:-1]:
        raw = raw[step]
    raw[path[-1]] = value


def _range(body: Any, where: str) -> Draw:
    if not isinstance(body, Mapping):
        raise SpecError("must be a mapping {low: …, high: …, step: …}", key=where)
    if "one_hot" in body or "values" in body:
        return _listed(body, where)
    for key in body:
        if key not in RANGE_KEYS:
            raise SpecError("unknown key (allowed: high, low, step; for targets also one_hot, values)",
                            key=f"{where}.{key_text(key)}")
    for key in RANGE_KEYS:
        if key not in body:
            raise SpecError(f"missing '{key}' (give low, high and step)", key=f"{where}.{key}")
    low, high, step = (number(body[k], f"{where}.{k}") for k in RANGE_KEYS)
    if step <= 0:
        raise SpecError("must be positive", key=f"{where}.step")
    if high < low:
        raise SpecError(f"must not be below low ({_plain(low)})", key=f"{where}.high")
    if (high - low) / step + 1 > MAX_GRID:
        raise SpecError(f"gives more than {MAX_GRID:,} values; use a larger step", key=f"{where}.step")
    return Grid(low, high, step)


def _listed(body: Mapping, where: str) -> Draw:
    if set(body) - {"one_hot", "values"} or len(body) != 1:
        raise SpecError("give either one_hot: true or values: [...], nothing else", key=where)
    if "one_hot" in body:
        if body["one_hot"] is not True:
            raise SpecError("must be true (leave it out for a range)", key=f"{where}.one_hot")
        return OneHot()
    listed = body["values"]
    if not isinstance(listed, list) or not 1 <= len(listed) <= MAX_CHOICES:
        raise SpecError(f"must be a list of 1 to {MAX_CHOICES} numbers", key=f"{where}.values")
    return Choice(tuple(number(v, f"{where}.values[{i}]") for i, v in enumerate(listed)))


def _names(body: Any, where: str) -> set[str]:
    if not isinstance(body, list) or not all(isinstance(n, str) for n in body):
        raise SpecError("must be a list of names", key=where)
    return set(body)


def default_groups(spec: Spec) -> dict[str, Draw]:
    """The groups drawn without a ``randomize`` mapping (see the module docstring)."""
    grid = Grid(*(sp.Rational(v) for v in DEFAULT_GRID), nonzero=True)
    groups: dict[str, Draw] = {"params": grid, "inputs": grid}
    if spec.objective is None and spec.outputs and not spec.targets_from:
        if spec.loss == "cross_entropy":
            groups["targets"] = OneHot()
        elif spec.loss == "bce":
            groups["targets"] = Choice((sp.Integer(0), sp.Integer(1)))
        else:
            acts = {spec.neurons[o].activation for o in spec.outputs if o in spec.neurons}
            bounds = BOUNDED_OUTPUTS.get(acts.pop()) if len(acts) == 1 else None
            groups["targets"] = Grid(*(sp.Rational(v) for v in bounds or DEFAULT_GRID))
    return groups


@dataclass(frozen=True)
class DrawPlan:
    """How one spec's variants are drawn: a range per group and per name, the names held fixed,
    the rules switched off (``allow``) and whether the plan is the default."""

    spec: Spec
    groups: dict[str, Draw]
    ranges: dict[str, Draw] = field(default_factory=dict)
    fixed: frozenset[str] = frozenset()
    allow: frozenset[str] = frozenset()
    default: bool = False

    def draw_for(self, leaf: Leaf) -> Draw | None:
        """The range ``leaf`` is drawn from (None: it keeps the spec's value)."""
        if leaf.called(set(self.fixed)):
            return None
        for name, how in self.ranges.items():
            if leaf.called({name}):
                return how
        return self.groups.get(leaf.group)

    def draw(self, rng: random.Random) -> tuple[dict, dict[str, Any], frozenset[str]]:
        """A copy of the spec's raw mapping with new values, the values drawn (leaf name → value)
        and which of them are targets."""
        raw = _with_every_value(self.spec, copy.deepcopy(dict(self.spec.raw)), self.groups)
        drawn: dict[str, Any] = {}
        units: dict[tuple, list[Leaf]] = {}
        targets = set()
        for leaf in leaves(raw):
            if leaf.group == "targets":
                targets.add(leaf.name)
            how = self.draw_for(leaf)
            if isinstance(how, OneHot):
                units.setdefault(leaf.unit, []).append(leaf)
            elif how is not None:
                drawn[leaf.name] = how.draw(rng)
                _set(raw, leaf.path, drawn[leaf.name])
        for unit in units.values():
            hot = rng.randrange(len(unit))
            for i, leaf in enumerate(unit):
                drawn[leaf.name] = int(i == hot)
                _set(raw, leaf.path, drawn[leaf.name])
        return raw, drawn, frozenset(targets & set(drawn))

    def space(self, cap: int = 10**9) -> int:
        """How many different draws there are (at most ``cap``)."""
        total = 1
        units: set[tuple] = set()
        for leaf in leaves(_with_every_value(self.spec, copy.deepcopy(dict(self.spec.raw)), self.groups)):
            how = self.draw_for(leaf)
            if isinstance(how, Grid):
                total *= how.size - (how.nonzero and how.low <= 0 <= how.high and how.size > 1)
            elif isinstance(how, Choice):
                total *= len(set(how.values))
            elif isinstance(how, OneHot):
                units.add(leaf.unit)
            if total > cap:
                return cap
        return min(cap, total * max(1, len(units)) ** 2) if units else min(cap, total)

    def finer(self) -> "DrawPlan":
        """The default plan on a 0.01 grid (for a spec with too few values to draw from)."""
        groups = {g: replace(how, step=sp.Rational(1, 100)) if isinstance(how, Grid) else how
                  for g, how in self.groups.items()}
        return replace(self, groups=groups)

    def rows(self) -> list[tuple[str, str]]:
        """``(what, how)`` for the marker's list: each group and per-name range, and what is fixed."""
        words = {"params": "Parameters", "inputs": "Inputs", "targets": "Targets"}
        out = [(words[g], how.words()) for g, how in self.groups.items()]
        out += [(name, how.words()) for name, how in self.ranges.items()]
        if self.fixed:
            out.append(("Fixed", ", ".join(sorted(self.fixed))))
        return out


def _with_every_value(spec: Spec, raw: dict, groups: Mapping[str, Draw]) -> dict:
    """``raw`` without its ``randomize``, and with a place for every value a drawn group needs
    (a spec may leave the values of what is drawn out); shorthand shapes name their values as
    vectors, so they must give them."""
    raw.pop("randomize", None)
    if spec.raw.get("conv") or spec.raw.get("recurrent") or spec.has_data:
        return raw
    values = raw.get("values")
    if not isinstance(values, dict):
        values = raw["values"] = {}
    wanted = {"params": spec.parameters, "inputs": spec.inputs,
              "targets": [o for o in spec.outputs if o not in spec.targets_from] if spec.objective is None else ()}
    for group, names in wanted.items():
        if group in groups and names:
            body = values.get(group)
            if not isinstance(body, dict):
                body = values[group] = {}
            for name in names:
                body.setdefault(name, 0)
    return raw


def draw_plan(spec: Spec, known_rules: Sequence[str] = ()) -> DrawPlan:
    """The validated plan of ``spec`` (its ``randomize`` mapping, or the default).

    Raises :class:`SpecError` naming the key (``randomize.params.step``) for every mistake.
    """
    raw = spec.randomize
    if raw is None:
        return DrawPlan(spec, default_groups(spec), default=True)
    if not isinstance(raw, Mapping):
        raise SpecError("must be a mapping of params/inputs/targets to {low, high, step}", key="randomize")
    allowed = set(GROUPS) | {"allow_kink", "allow", "fixed", "ranges"}
    for key in raw:
        if key not in allowed:
            raise SpecError(f"unknown key (allowed: {', '.join(sorted(allowed))})", key=f"randomize.{key_text(key)}")
    groups: dict[str, Draw] = {}
    for group in GROUPS:
        if group in raw:
            how = _range(raw[group], f"randomize.{group}")
            if group != "targets" and not isinstance(how, Grid):
                raise SpecError("one_hot and values are for targets; give low, high and step",
                                key=f"randomize.{group}")
            if group == "targets" and spec.objective is not None:
                raise SpecError("this spec has an objective, not targets", key=f"randomize.{group}")
            groups[group] = how
    ranges = {}
    body = raw.get("ranges") or {}
    if not isinstance(body, Mapping):
        raise SpecError("must be a mapping of names to {low, high, step}", key="randomize.ranges")
    every = leaves(spec.raw)
    for name, how in body.items():
        ranges[str(name)] = _range(how, f"randomize.ranges.{key_text(name)}")
    fixed = _names(raw.get("fixed", []), "randomize.fixed")
    for name in [*ranges, *sorted(fixed)]:
        if not any(leaf.called({name}) for leaf in every):
            raise SpecError("names no value of the spec (only the values under 'values' and 'data' are "
                            "drawn)", key=f"randomize.{'ranges' if name in ranges else 'fixed'}."
                                                               f"{key_text(name)}")
    allow = _names(raw.get("allow", []), "randomize.allow")
    if known_rules:
        for name in sorted(allow):
            if name not in known_rules:
                raise SpecError(f"unknown rule (rules: {', '.join(known_rules)})", key=f"randomize.allow.{key_text(name)}")
    kink = raw.get("allow_kink", False)
    if not isinstance(kink, bool):
        raise SpecError("must be true or false", key="randomize.allow_kink")
    if kink:
        allow.add("kink")
    if not groups and not ranges:
        raise SpecError("name at least one of params, inputs, targets", key="randomize")
    return DrawPlan(spec, groups, ranges, frozenset(fixed), frozenset(allow))


GENERIC_TITLE = "Backpropagation exercise"


def exam_title(spec: Spec, plan: DrawPlan) -> str:
    """The title the sheets carry: the spec's ``exam.title``, else its title unless that quotes a
    value the variants redraw ("target 0.5" above t = 0), else :data:`GENERIC_TITLE`.

    >>> from symbackprop import spec_from_mapping
    >>> s = spec_from_mapping({"name": "n", "title": "One neuron, target 0.5", "inputs": ["x"],
    ...     "neurons": {"o": {"from": {"x": "w"}, "activation": "sigmoid"}}, "outputs": ["o"],
    ...     "loss": "half_sse", "values": {"inputs": {"x": 1}, "params": {"w": 0.2}, "targets": {"o": 0.5}}})
    >>> exam_title(s, draw_plan(s))
    'Backpropagation exercise'
    """
    exam = spec.raw.get("exam") or {}
    if exam.get("title"):
        return str(exam["title"])
    title = spec.title or GENERIC_TITLE
    for leaf in leaves(spec.raw):
        if plan.draw_for(leaf) is None:
            continue
        value = spec.raw
        for step in leaf.path:
            value = value[step]
        text = re.escape(str(value))
        quoted = (rf"(?<![\d.]){text}(?!\d)" if isinstance(value, float) and not value.is_integer()
                  else rf"(?:=|\btarget|\binput|\bweight)\s*{text}(?![\d.])")
        if re.search(quoted, title):
            return GENERIC_TITLE
    return title

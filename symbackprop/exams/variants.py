"""Randomised exam variants: new values drawn on a grid of "nice" numbers, deterministic for a seed.

A spec opts in with a ``randomize`` mapping; each group it names is redrawn, the others keep
the spec's values::

    randomize:
      params:  {low: -1, high: 1, step: 0.1}    # every parameter
      inputs:  {low: 0, high: 1, step: 0.05}    # every input (of every example)
      targets: {low: 0, high: 1, step: 0.1}     # every target
      allow_kink: false                         # redraw a kink or tie (default)

Variant ``k`` of seed ``s`` draws from ``random.Random("symbackprop:s:k")``, so it does not
depend on how many variants are made. A draw is rejected and drawn again when the numbers
degenerate: a node at a kink or tie (unless ``allow_kink``: a ReLU, leaky ReLU or ``abs``
argument within 1e-12 of 0, or tied ``max``/``min`` arguments — the derivation's
``warnings``), a saturated sigmoid (|net| > 6) or tanh (|net| > 3), every gradient zero, a
value the engine cannot evaluate (log of 0, division by 0), or the same values as an earlier
variant.

>>> from symbackprop import load_spec
>>> spec = load_spec("examples/we05-221-sigmoid.yaml")          # doctest: +SKIP
>>> [v.number for v in draw_variants(spec, 3, seed=7)]           # doctest: +SKIP
[1, 2, 3]
"""
from __future__ import annotations

import copy
import math
import random
from dataclasses import dataclass
from typing import Any, Mapping

import sympy as sp

from ..derive import Derivation, derive
from ..errors import SpecError
from ..expressions import ExpressionError
from ..spec import Spec, key_text, number, spec_from_mapping

GROUPS = ("params", "inputs", "targets")
RANGE_KEYS = ("low", "high", "step")
MAX_GRID = 1_000_000
MAX_ATTEMPTS = 200
MAX_VARIANTS = 1000
SATURATION = {"sigmoid": 6.0, "tanh": 3.0}


@dataclass(frozen=True)
class Grid:
    """The values ``low, low + step, …`` up to ``high`` (exact rationals)."""

    low: sp.Rational
    high: sp.Rational
    step: sp.Rational

    @property
    def size(self) -> int:
        return int((self.high - self.low) / self.step) + 1

    def draw(self, rng: random.Random) -> float:
        value = self.low + self.step * rng.randrange(self.size)
        return int(value) if value.is_integer else float(value)


@dataclass(frozen=True)
class Variant:
    """One drawn variant: its number, its spec and derivation, and the values that were drawn."""

    number: int
    spec: Spec
    derivation: Derivation
    drawn: dict[str, Any]


def grids(spec: Spec) -> tuple[dict[str, Grid], bool]:
    """The validated ``randomize`` mapping: a grid per group, and ``allow_kink``.

    Raises :class:`SpecError` naming the key (``randomize.params.step``) for every mistake.
    """
    raw = spec.randomize
    if raw is None:
        raise SpecError("exam variants need a 'randomize' mapping in the spec, e.g. "
                        "randomize: {params: {low: -1, high: 1, step: 0.1}}", key="randomize")
    if not isinstance(raw, Mapping):
        raise SpecError("must be a mapping of params/inputs/targets to {low, high, step}", key="randomize")
    allowed = set(GROUPS) | {"allow_kink"}
    for key in raw:
        if key not in allowed:
            raise SpecError(f"unknown key (allowed: {', '.join(sorted(allowed))})", key=f"randomize.{key_text(key)}")
    allow_kink = raw.get("allow_kink", False)
    if not isinstance(allow_kink, bool):
        raise SpecError("must be true or false", key="randomize.allow_kink")
    out: dict[str, Grid] = {}
    for group in GROUPS:
        if group not in raw:
            continue
        where = f"randomize.{group}"
        body = raw[group]
        if not isinstance(body, Mapping):
            raise SpecError("must be a mapping {low: …, high: …, step: …}", key=where)
        for key in body:
            if key not in RANGE_KEYS:
                raise SpecError("unknown key (allowed: high, low, step)", key=f"{where}.{key_text(key)}")
        for key in RANGE_KEYS:
            if key not in body:
                raise SpecError(f"missing '{key}' (give low, high and step)", key=f"{where}.{key_text(key)}")
        low, high, step = (number(body[k], f"{where}.{k}") for k in RANGE_KEYS)
        if step <= 0:
            raise SpecError("must be positive", key=f"{where}.step")
        if high < low:
            raise SpecError(f"must not be below low ({low})", key=f"{where}.high")
        grid = Grid(low, high, step)
        if (high - low) / step + 1 > MAX_GRID:
            raise SpecError(f"gives more than {MAX_GRID:,} values; use a larger step", key=f"{where}.step")
        if group == "targets" and spec.objective is not None:
            raise SpecError("this spec has an objective, not targets", key=where)
        out[group] = grid
    if not out:
        raise SpecError("name at least one of params, inputs, targets", key="randomize")
    return out, allow_kink


def _drawn_raw(spec: Spec, grid: dict[str, Grid], rng: random.Random) -> tuple[dict, dict[str, Any]]:
    """A copy of the spec's raw mapping with new values; and the values drawn, in order."""
    raw = copy.deepcopy(dict(spec.raw))
    drawn: dict[str, Any] = {}
    values = raw.setdefault("values", {}) if isinstance(raw.get("values", {}), dict) else {}
    raw["values"] = values
    if "params" in grid:
        values["params"] = {p: grid["params"].draw(rng) for p in spec.parameters}
        drawn.update(values["params"])
    targets = list(spec.outputs) if spec.objective is None else []
    if spec.has_data:
        for i, item in enumerate(raw["data"], start=1):
            if "inputs" in grid:
                item["inputs"] = {x: grid["inputs"].draw(rng) for x in spec.inputs}
                drawn.update({f"{x}__{i}": v for x, v in item["inputs"].items()})
            if "targets" in grid:
                item["targets"] = {o: grid["targets"].draw(rng) for o in targets}
                drawn.update({f"t_{o}__{i}": v for o, v in item["targets"].items()})
    else:
        if "inputs" in grid and spec.inputs:
            values["inputs"] = {x: grid["inputs"].draw(rng) for x in spec.inputs}
            drawn.update(values["inputs"])
        if "targets" in grid and targets:
            values["targets"] = {o: grid["targets"].draw(rng) for o in targets}
            drawn.update({f"t_{o}": v for o, v in values["targets"].items()})
    return raw, drawn


def degenerate(d: Derivation, *, allow_kink: bool = False) -> str | None:
    """Why a variant's numbers are unusable for an exam, or None when they are fine."""
    n = d.numbers
    if n is None:
        return "it has no numbers"
    if d.warnings and not allow_kink:   # a kink or tie: no derivative there (Derivation.warnings)
        return d.warnings[0]["message"]
    spec, g = d.spec, d.network.graph
    for node, value in n.forward.items():
        if node not in g or g.nodes[node]["kind"] != "net":
            continue
        activation = spec.neurons[g.nodes[node]["owner"]].activation
        if activation in SATURATION and abs(value) > SATURATION[activation]:
            return f"{activation} saturated ({node} = {value:.3g})"
    values = list(n.gradients.values())
    if not values or max(abs(v) for v in values) < 1e-12:
        return "every gradient is zero"
    if any(not math.isfinite(v) for v in list(n.forward.values()) + values):
        return "a value is not finite"
    return None


def draw_variants(spec: Spec, count: int, seed: int, *, method: str = "backprop") -> list[Variant]:
    """``count`` non-degenerate, distinct variants of ``spec`` (see the module docstring)."""
    if not 1 <= count <= MAX_VARIANTS:
        raise SpecError(f"the number of variants must be between 1 and {MAX_VARIANTS}", key="variants")
    grid, allow_kink = grids(spec)
    variants: list[Variant] = []
    seen: set[tuple] = set()
    for k in range(1, count + 1):
        rng = random.Random(f"symbackprop:{seed}:{k}")
        reason = ""
        for _ in range(MAX_ATTEMPTS):
            raw, drawn = _drawn_raw(spec, grid, rng)
            key = tuple(sorted(drawn.items()))
            if key in seen:
                reason = "the same values as an earlier variant"
                continue
            try:
                new_spec = spec_from_mapping(raw, file=spec.file)
                d = derive(new_spec, method)
            except SpecError as exc:
                if exc.key and exc.key.startswith("values"):
                    if "missing value" in exc.message:
                        raise SpecError(f"{exc.message}: give them in 'values' or randomise them too",
                                        key="randomize") from None
                    reason = exc.message
                    continue
                raise
            except (ExpressionError, ZeroDivisionError, OverflowError) as exc:
                reason = str(exc)
                continue
            reason = degenerate(d, allow_kink=allow_kink) or ""
            if reason:
                continue
            seen.add(key)
            variants.append(Variant(k, new_spec, d, drawn))
            break
        else:
            raise SpecError(f"could not draw variant {k} in {MAX_ATTEMPTS} attempts (last problem: "
                            f"{reason}); widen the ranges", key="randomize")
    return variants

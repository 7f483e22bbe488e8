"""How precise a worked figure is, and what tolerance it gets: the tighter of its stated precision and the instructor's policy.

A figure written with *d* decimals states ±half a unit in its last place (``0.76`` → ±0.005).
That is what the student claims; it never widens what the instructor allows. The policy
(:class:`symbackprop.spec.marking.Tolerance`) caps it: ``significant_figures: s`` → half a
unit in the *s*-th significant figure of the exact value, ``decimals: d`` → ±0.5·10⁻ᵈ,
``relative: r`` → ±r·|exact|, ``absolute: a`` → ±a. A figure with fewer significant figures
(or decimals) than the policy asks is *insufficient precision*, unless it is the exact value
(``0.5`` for ½, a copied given ``0.1``). A number without a decimal point (``1``, ``2e-3``) is
a claim of the exact value: right only within 10⁻⁹ of it, relatively.

>>> f = stated_figure("0.0024", "x")
>>> f.value, f.half_unit, f.significant, f.exact
(0.0024, 5e-05, 2, False)
>>> stated_figure("0.e+9", "x").significant, stated_figure("120.", "x").significant
(0, 3)
>>> from symbackprop.spec.marking import Tolerance
>>> a = allowance(stated_figure("0.e+9", "x"), 0.0024, Tolerance(significant_figures=2))
>>> a.tolerance, a.precise_enough
(5e-05, False)
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ...errors import SpecError
from ...spec.marking import Tolerance

NUMBER = re.compile(r"^[+-]?(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?$", re.ASCII)  # 0-9 only
EXACT = 1e-9            # relative tolerance of a figure written without a decimal point
SAME = 1e-12            # relative: the written value is the exact value itself
FLOOR = 1e-300          # below every figure anyone writes; never a tolerance of its own
MAX_EXPONENT = 300


@dataclass(frozen=True)
class StatedFigure:
    """A number as the student wrote it, and the precision that writing states."""

    value: float
    text: str
    half_unit: float       # half a unit in the last written place (EXACT·|value| when exact)
    exact: bool            # written without a decimal point: a claim of the exact value
    significant: int       # significant figures written (leading zeros are not)
    last_place: int        # the power of ten of the last written digit


@dataclass(frozen=True)
class Allowance:
    """What a figure is held to: its tolerance, whether its precision meets the policy, the rule in words."""

    tolerance: float
    precise_enough: bool   # enough digits, or a claim of the exact value, or the exact value itself
    enough_digits: bool    # the digits alone meet the policy (or the figure claims exactness)
    rule: str


def stated_figure(text: Any, where: str) -> StatedFigure:
    """Read a figure as written; a SpecError (key ``where``) if it is not a plain finite number."""
    if isinstance(text, bool) or text is None or not isinstance(text, (str, int, float)):
        raise SpecError(f"must be a number, got {type(text).__name__ if text is not None else 'nothing'}",
                        key=where)
    raw = str(text).strip().replace("_", "")
    m = NUMBER.match(raw)
    if not m:
        raise SpecError(f"must be a number as written (e.g. 0.68 or -1.5e-3), got '{raw[:30]}'", key=where)
    whole, fraction = m.group(1) or "", m.group(2) or m.group(3) or ""
    exponent = int(m.group(4) or 0) if len(m.group(4) or "") <= 6 else MAX_EXPONENT + 1
    if abs(exponent) > MAX_EXPONENT:
        raise SpecError("the exponent is out of range", key=where)
    value = float(raw)
    if not math.isfinite(value):
        raise SpecError("must be a finite number", key=where)
    digits = (whole + fraction).lstrip("0")
    last_place = exponent - len(fraction)
    if "." not in raw:  # an integer (1, -1, 2e-3): a claim of the exact value, not a rounding
        return StatedFigure(value, raw, EXACT * abs(value), True, len(digits), last_place)
    return StatedFigure(value, raw, 0.5 * 10.0 ** last_place, False, len(digits), last_place)


def is_exact_value(figure: StatedFigure, exact: float) -> bool:
    """The figure is the exact value itself (``0.5`` for ½), whatever its number of digits."""
    return abs(figure.value - exact) <= SAME * max(abs(exact), abs(figure.value)) + FLOOR


def allowance(figure: StatedFigure, exact: float, rule: Tolerance) -> Allowance:
    """The tolerance ``figure`` is held to against ``exact`` under ``rule``, and whether it is precise enough."""
    caps = [figure.half_unit if not figure.exact else EXACT * max(abs(exact), abs(figure.value))]
    enough = True
    magnitude = math.floor(math.log10(abs(exact))) if exact and math.isfinite(exact) else None
    if rule.significant_figures is not None:
        if magnitude is not None:
            caps.append(0.5 * 10.0 ** (magnitude - rule.significant_figures + 1))
        enough &= figure.significant >= rule.significant_figures
    if rule.decimals is not None:
        caps.append(0.5 * 10.0 ** -rule.decimals)
        enough &= figure.last_place <= -rule.decimals
    if rule.relative is not None and math.isfinite(exact):
        caps.append(rule.relative * abs(exact))
    if rule.absolute is not None:
        caps.append(rule.absolute)
    digits = figure.exact or enough
    return Allowance(min(caps), digits or is_exact_value(figure, exact), digits, rule.describe())


def a_rounding_of(figure: StatedFigure, target: float) -> bool:
    """``figure`` is a true rounding of ``target``, however coarse: within half a unit of its last
    place, and that place no coarser than ``target``'s leading digit (``0.6`` rounds 0.555; ``1.``,
    ``0.`` and ``0.e9`` hold no digit of it and round nothing). A claim of exactness never is one.

    >>> f = stated_figure("0.6", "x")
    >>> a_rounding_of(f, 0.555), a_rounding_of(stated_figure("0.e9", "x"), 0.555), a_rounding_of(f, 0.0612)
    (True, False, False)
    """
    if figure.exact or not math.isfinite(target):
        return False
    if target == 0:
        return figure.value == 0 and figure.significant >= 1
    return (figure.last_place <= math.floor(math.log10(abs(target)))
            and within(figure.value, target, figure.half_unit))


def within(value: float, target: float, tolerance: float) -> bool:
    """``value`` is within ``tolerance`` of ``target`` (plus float rounding, relative to their size)."""
    return abs(value - target) <= tolerance * (1 + 1e-9) + SAME * max(abs(value), abs(target)) + FLOOR

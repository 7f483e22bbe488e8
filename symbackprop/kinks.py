r"""Points without a derivative: ReLU, leaky ReLU and ``abs`` at 0, ``max``/``min`` at a tie.

At such a point every derivative symbackprop gives is one fixed subgradient (see
docs/numbers.md, "Kinks and ties"): ReLU 0, leaky ReLU ``alpha`` (the slope below, as
PyTorch), ``abs`` 0 (``sign(0)``), and for ``max``/``min`` the whole tie goes to the first
argument attaining it (numbers first, so ``max(x, 0)`` is ReLU). :func:`kinks` finds the
calls of an expression whose argument sits within :data:`TOLERANCE` of such a point and says
so in words.

>>> import sympy as sp
>>> from symbackprop.functions import maximum, relu
>>> a, b, c, n = sp.symbols("c1 c2 c3 net_h")
>>> [k.kind for k in kinks(maximum(a, b, c) + relu(n), {a: 0.5, b: 0.5, c: 0.5, n: 0.3})]
['max']
>>> print(kinks(relu(n), {n: 0.0})[0].message)
relu at its kink (net_h = 0): the derivative does not exist; the one-sided values are 0 (below) and 1 (above); the gradient uses 0
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import sympy as sp

from .functions import absolute, leaky_relu, maximum, minimum, relu

__all__ = ["TOLERANCE", "Kink", "near", "kinks"]

TOLERANCE = 1e-12
"""How close to a switch point counts as on it: relative, or absolute where the point is 0."""


@dataclass(frozen=True)
class Kink:
    """One call at (or within :data:`TOLERANCE` of) a point where its derivative does not exist."""

    kind: str          # "relu", "leaky_relu", "abs", "max" or "min"
    call: sp.Expr      # the call itself, e.g. Max(c1, c2, c3)
    message: str       # the point, the one-sided values and the value the gradient uses


def near(value: float, point: float, tolerance: float = TOLERANCE) -> bool:
    """Whether ``value`` is within ``tolerance`` (1e-12) of ``point``: relative, or absolute when ``point`` is 0.

    >>> near(1e-13, 0.0), near(0.5 + 1e-14, 0.5), near(0.5 + 1e-9, 0.5), near(0.5 + 1e-10, 0.5, 1e-9)
    (True, True, False, True)
    """
    return abs(value - point) <= tolerance * (abs(point) if point != 0 else 1.0)


def _num(value: float) -> str:
    return f"{value:.6g}" if value != 0 else "0"


def _at(exact: bool, what: str, tolerance: float = TOLERANCE) -> str:
    """``at a tie: the derivative does not exist`` or, just off it, ``within 1e-12 of a tie: …``."""
    if exact:
        return f"{what}" + "{}: the derivative does not exist"
    return f"within {tolerance:g} of {what.removeprefix('at ')}" + "{}: the derivative jumps there (rounding can cross it)"


def _one_argument(call: sp.Expr, x: float, tolerance: float) -> Kink:
    arg = call.args[0]
    where = f"{arg} = {_num(x)}"
    if isinstance(call, leaky_relu):
        kind, below, used = "leaky_relu", str(call.args[1]), "1" if x > 0 else str(call.args[1])
    elif isinstance(call, relu):
        kind, below, used = "relu", "0", "1" if x > 0 else "0"
    else:
        kind, below, used = "abs", "-1", "1" if x > 0 else "-1" if x < 0 else "0"
    name = {"leaky_relu": "leaky ReLU"}.get(kind, kind)
    text = (f"{name} {_at(x == 0, 'at its kink', tolerance).format(f' ({where})')}; the one-sided values are "
            f"{below} (below) and 1 (above); the gradient uses {used}")
    return Kink(kind, call, text)


def _tie(call: sp.Expr, values: list[float], tied: list[int], tolerance: float) -> Kink:
    kind = "max" if isinstance(call, maximum) else "min"
    best = max(values) if kind == "max" else min(values)
    winner = next(i for i, v in enumerate(values) if v == best)   # what fdiff's indicators pick
    names = " = ".join(str(call.args[i]) for i in tied)
    moved = [str(call.args[i]) for i in tied if not call.args[i].is_comparable]
    up, down = ("raising", "lowering") if kind == "max" else ("lowering", "raising")
    at = _at(len({values[i] for i in tied}) == 1, "at a tie", tolerance).format(f" ({names} = {_num(best)})")
    text = (f"{kind} {at}; the one-sided values of the derivatives with respect to {', '.join(moved)} "
            f"are 1 ({up} the argument) and 0 ({down} it); the gradient uses the subgradient that gives "
            f"the tie to the first argument, {call.args[winner]}")
    return Kink(kind, call, text)


def kinks(expr: sp.Expr, values: Mapping[sp.Symbol, float], tolerance: float = TOLERANCE) -> list[Kink]:
    """The calls of ``expr`` at a kink or tie at ``values`` (symbol → float), in the order they appear;
    ``tolerance`` is how near counts as on it (the exam generator rejects draws within 1e-9).

    Arguments are evaluated in float64-sized SymPy Floats; a call whose argument cannot be
    evaluated to a real number is skipped.
    """
    found: list[Kink] = []
    for call in sp.preorder_traversal(expr):
        if not isinstance(call, (relu, leaky_relu, absolute, maximum, minimum)):
            continue
        point = {s: sp.Float(values[s]) for s in call.free_symbols if s in values}
        try:
            args = [float(a.xreplace(point)) for a in call.args]
        except (TypeError, ValueError):
            continue
        if isinstance(call, (maximum, minimum)):
            best = max(args) if isinstance(call, maximum) else min(args)
            tied = [i for i, v in enumerate(args) if near(v, best, tolerance)]
            if len(tied) > 1 and any(not call.args[i].is_comparable for i in tied):
                found.append(_tie(call, args, tied, tolerance))
        elif near(args[0], 0.0, tolerance):
            found.append(_one_argument(call, args[0], tolerance))
    return found

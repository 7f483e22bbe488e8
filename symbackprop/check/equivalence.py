"""Is an answer the correct expression? Symbolic simplification of the difference, and numbers.

Two independent tests, both always run:

1. **Symbolic.** The difference ``answer − correct`` has the δ definitions substituted
   (lecture variables: outs, nets, targets, weights, inputs) and is expanded; if that is not
   0, every definition is substituted (inputs, parameters and targets only) and it is
   expanded again. Each stage runs only when the expression is small enough (the number of
   terms the expansion would produce is estimated first), so a huge answer cannot stall the
   checker. When the numbers agree but expansion did not prove it, a small remainder is
   simplified with σ rewritten as exp, for at most ``SIMPLIFY_SECONDS``.
2. **Numeric.** Both sides are evaluated to 40 digits at the test points of the
   :class:`~symbackprop.check.context.CheckContext` (the spec's own values first, then
   random ones), where every out, net and δ has its consistent value. A difference at any
   point is a concrete counterexample; agreement at every point recognises a correct
   answer that simplification cannot prove.

A point where the two sides differ proves the answer wrong (the counterexample is
reported). Otherwise the answer is correct: proved symbolically, or, when simplification
cannot finish the proof, equal at every test point.
"""
from __future__ import annotations

import random
import signal
import threading
from dataclasses import dataclass, field
from typing import Sequence

import mpmath
import sympy as sp

from ..derive.expand import ExpansionTooLarge
from .context import DIGITS, CheckContext, Point
from .evaluate import MP, Program, Unsupported, compile_expr
from .switches import foreign_switches, points_across

MAX_EXPANDED_TERMS = 3_000
MAX_SIMPLIFY_OPS = 80
RELATIVE_TOLERANCE = mpmath.mpf(10) ** -25
MIN_POINTS = 8
SIMPLIFY_SECONDS = 2.0


@dataclass(frozen=True)
class Counterexample:
    """Where an answer and the correct expression differ: the leaves, what the answer used, both values."""

    leaves: dict[str, float]
    used: dict[str, float]
    answer: float | None        # None: the answer is undefined there
    correct: float
    at_spec_values: bool


@dataclass
class Comparison:
    """The outcome of comparing two expressions."""

    equal: bool | None
    proof: str | None = None                 # "symbolic" or "numeric"
    points: int = 0                          # test points where both sides were defined
    counterexample: Counterexample | None = None
    answer_values: list = field(default_factory=list)   # per test point (None where undefined)
    correct_values: list = field(default_factory=list)
    switches: list[str] = field(default_factory=list)   # the answer switches where these change sign; the derivative does not
    uncrossed: list[str] = field(default_factory=list)  # switches no test point got across: not decided by numbers


def same_number(a, b, floor=1) -> bool:
    """Equal to 25 significant digits, relative to the larger of ``|a|``, ``|b|`` and ``floor``.

    Slip matching keeps the floor 1 (both within 1e-25 of 0); deciding an answer uses
    ``floor=0``: purely relative, so ``0`` never equals a derivative that is merely tiny.

    >>> same_number(mpmath.mpf("1e-30"), 0), same_number(mpmath.mpf("1e-30"), 0, floor=0)
    (True, False)
    """
    if a is None or b is None:
        return a is None and b is None
    scale = max(abs(a), abs(b), mpmath.mpf(floor))
    return abs(a - b) <= RELATIVE_TOLERANCE * scale


def _confirmed_difference(ctx: CheckContext, program: Program, correct: Program, point: Point, a, c) -> bool | None:
    """Recomputed at twice the digits: True when the answer really differs there, False when it
    agrees, None when rounding at 40 digits is too large to tell (the point decides nothing).

    The change between the 40- and the 80-digit values estimates the rounding noise of the
    40-digit ones (cancellation in ``1 − out`` with ``out`` near 1); a difference is real only
    when it is far larger than that noise.
    """
    with mpmath.workdps(2 * DIGITS):
        values = ctx.valuation(point.leaves, 2 * DIGITS)
        a_hi, c_hi = program.evaluate(values, MP), correct.evaluate(values, MP)
        if c_hi is None:
            return None
        if a_hi is None:
            return True
        noise = abs(c - c_hi) + (abs(a - a_hi) if a is not None else 0)
        gap = abs(a_hi - c_hi)
        if gap <= RELATIVE_TOLERANCE * max(abs(a_hi), abs(c_hi)) + noise * mpmath.mpf(10) ** -20:
            return False
        return True if gap > 100 * noise else None


def estimated_terms(expr: sp.Expr, cap: int = 10**7) -> int:
    """Number of terms ``sp.expand(expr)`` would produce, estimated from the tree (never expands)."""
    if expr.is_Add:
        return min(cap, sum(estimated_terms(a, cap) for a in expr.args))
    if expr.is_Mul:
        total = 1
        for a in expr.args:
            total = min(cap, total * estimated_terms(a, cap))
        return total
    if expr.is_Pow and expr.exp.is_Integer and expr.exp > 0:
        base = estimated_terms(expr.base, cap)
        n = int(expr.exp)
        return cap if base > 1 and n > 60 else min(cap, base ** n)
    if expr.args and not expr.is_Atom:
        return max(1, min(cap, max((estimated_terms(a, cap) for a in expr.args), default=1)))
    return 1


def _expands_to_zero(expr: sp.Expr) -> bool:
    if estimated_terms(expr) > MAX_EXPANDED_TERMS:
        return False
    return sp.expand(expr) == 0


def symbolic_zero(ctx: CheckContext, difference: sp.Expr, *, thorough: bool = False) -> bool:
    """Whether ``difference`` is provably 0 (δs substituted, then everything; see the module doc).

    The cheap stages (substitution and a size-guarded expansion) always run; ``thorough``
    adds SymPy's ``simplify`` with σ rewritten as exp, on small expressions and for at most
    :data:`SIMPLIFY_SECONDS` (only where a timer is available: the main thread on POSIX).
    """
    if difference == 0:
        return True
    for expander in (ctx.delta_expander, ctx.full_expander):  # lecture form, then fully expanded
        try:
            full = expander.expand(difference)
        except ExpansionTooLarge:
            return False
        if full == 0 or _expands_to_zero(full):
            return True
    if not thorough or sp.count_ops(full) > MAX_SIMPLIFY_OPS:
        return False
    from ..functions import sigmoid

    rewritten = full.replace(lambda e: isinstance(e, sigmoid), lambda e: 1 / (1 + sp.exp(-e.args[0])))
    return _time_limited(lambda: sp.simplify(rewritten) == 0, SIMPLIFY_SECONDS) is True


class _Timeout(BaseException):
    """Raised by the timer inside SymPy (a BaseException, so no ``except Exception`` swallows it)."""


def _time_limited(fn, seconds: float):
    """``fn()`` or ``None`` if it takes longer than ``seconds`` (or no timer can be set here)."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return None

    def expire(signum, frame):
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    except _Timeout:
        return None
    except (TypeError, ValueError, RecursionError, NotImplementedError, AttributeError):
        return None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def values_at(program: Program, points: Sequence[Point]) -> list:
    with mpmath.workdps(DIGITS):
        return [program.evaluate(p.values, MP) for p in points]


def compile_or_none(expr: sp.Expr) -> Program | None:
    try:
        return compile_expr(expr)
    except Unsupported:
        return None


def compare(ctx: CheckContext, answer: sp.Expr, correct: sp.Expr, points: Sequence[Point],
            correct_values: list | None = None) -> Comparison:
    """Compare ``answer`` with ``correct`` at ``points`` (plus points either side of the
    answer's own switches) and symbolically (see the module doc).

    A point where the two differ — confirmed at twice the digits, relative to the size of the
    correct value — is a concrete counterexample and settles it (the answer is wrong).
    Otherwise the symbolic test is tried, so a correct answer is reported as proved or as
    equal at every test point.
    """
    program = compile_or_none(answer)
    correct_program = compile_expr(correct)
    if correct_values is None:
        correct_values = values_at(correct_program, points)
    points, correct_values = list(points), list(correct_values)
    foreign = foreign_switches(answer, correct)
    if foreign and program is not None and points:
        near = [p for i, p in enumerate(points) if p.from_spec or i % 2 == 0] or points  # not the wide ones
        extra = points_across(ctx, foreign, near, random.Random(f"switches:{answer}"))
        points += extra
        correct_values += values_at(correct_program, extra)
    answer_values = values_at(program, points) if program is not None else [None] * len(points)
    compared = 0
    counterexample = None
    decided: list[Point] = []      # the points where both sides were compared
    if program is not None:
        for point, a, c in zip(points, answer_values, correct_values):
            if c is None:
                continue
            if a is not None and same_number(a, c, floor=0):
                compared += 1
                decided.append(point)
                continue
            differs = _confirmed_difference(ctx, program, correct_program, point, a, c)
            if differs is False:
                compared += 1
                decided.append(point)
            elif differs and counterexample is None:
                counterexample = _counterexample(ctx, answer, point, a, c)
    result = Comparison(None, points=compared, answer_values=answer_values, correct_values=correct_values,
                        switches=[str(f) for f in foreign])
    if counterexample is not None:
        result.equal, result.counterexample = False, counterexample
        return result
    if symbolic_zero(ctx, answer - correct, thorough=compared > 0):
        result.equal, result.proof = True, "symbolic"
        return result
    result.uncrossed = [str(f) for f in foreign if not _both_signs(f, decided)]
    if program is not None and compared >= min(MIN_POINTS, len(points)) and not result.uncrossed:
        result.equal, result.proof = True, "numeric"
    return result


def _both_signs(argument: sp.Expr, points: Sequence[Point]) -> bool:
    """Whether the test points reach both sides of the switch ``argument = 0``."""
    program = compile_or_none(argument)
    if program is None:
        return False
    signs = {v > 0 for v in values_at(program, points) if v is not None}   # above 0, and 0 or below
    return signs == {True, False}


def _counterexample(ctx: CheckContext, answer: sp.Expr, point: Point, a, c) -> Counterexample:
    aliases = set(ctx.aliases.values()) - answer.free_symbols
    leaves = {str(s): float(v) for s, v in point.leaves.items() if s not in aliases}
    leaf_symbols = set(point.leaves)
    used = {}
    for s in sorted(answer.free_symbols, key=str):
        if s not in leaf_symbols and s in point.values and point.values[s] is not None:
            used[str(s)] = float(point.values[s])
    return Counterexample(leaves, used, None if a is None else float(a), float(c), point.from_spec)

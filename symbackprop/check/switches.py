"""Where an answer's own piecewise functions switch, and test points on both sides of each switch.

An answer like ``A*delta_T + relu(w_AT - 1.51)*1000`` equals the derivative wherever
``w_AT < 1.51``; random points may all fall there. For every switch argument of the answer
(the argument of relu, leaky_relu, Heaviside, step, abs, sign; ``a − b`` of Max/Min; each side
of a Piecewise condition) that the correct expression does not share, the argument is
followed along random lines through a test point, a sign change is bracketed and bisected
(a bounded number of evaluations), and points just either side are added.

>>> import sympy as sp
>>> from symbackprop.functions import relu
>>> x, y = sp.symbols("x y")
>>> sorted(map(str, switch_arguments(relu(x - 2) + sp.Max(x, y))))
['x - 2', 'x - y']
"""
from __future__ import annotations

import random
from typing import Sequence

import sympy as sp

from ..functions import EXTREMA, absolute, leaky_relu, relu
from .context import CheckContext, Point
from .evaluate import MP, Unsupported, compile_expr

LINES = 3            # random lines per switch argument
SCAN = 24            # evaluations along a line to bracket a sign change
BISECT = 40          # bisection steps inside a bracket
MAX_ARGUMENTS = 6    # switch arguments followed per answer
ONE_ARGUMENT = (relu, leaky_relu, sp.Heaviside, absolute, sp.Abs, sp.sign)


def switch_arguments(expr: sp.Expr) -> set[sp.Expr]:
    """The expressions whose sign decides a branch of ``expr``'s piecewise functions."""
    found: set[sp.Expr] = set()
    for node in sp.preorder_traversal(expr):
        if isinstance(node, ONE_ARGUMENT):
            found.add(node.args[0])
        elif isinstance(node, (sp.Max, sp.Min, *EXTREMA)):
            args = list(node.args)
            found.update(a - b for i, a in enumerate(args) for b in args[i + 1:])
        elif isinstance(node, sp.Piecewise):
            for _, cond in node.args:
                if isinstance(cond, sp.core.relational.Relational):
                    found.add(cond.lhs - cond.rhs)
    return {a for a in found if a.free_symbols}


def foreign_switches(answer: sp.Expr, correct: sp.Expr) -> list[sp.Expr]:
    """The answer's switch arguments that the correct expression does not have (up to sign)."""
    own = switch_arguments(correct)
    own |= {-a for a in own}
    return sorted((a for a in switch_arguments(answer) if a not in own), key=sp.default_sort_key)


def points_across(ctx: CheckContext, arguments: Sequence[sp.Expr], bases: Sequence[Point],
                  rng: random.Random) -> list[Point]:
    """Test points just either side of where each argument changes sign, along random lines
    through ``bases`` (moving only the argument's own leaves when it is written in leaves)."""
    out: list[Point] = []
    # targets stay put: they keep their range (0, 1) and, for softmax, the sum 1 the lecture form needs
    leaf_symbols = [s for s, kind, _ in ctx.leaves() if kind != "target"] + list(ctx.aliases.values())
    for argument in list(arguments)[:MAX_ARGUMENTS]:
        try:
            program = compile_expr(argument)
        except Unsupported:
            continue
        own = [s for s in leaf_symbols if s in argument.free_symbols]
        moved = own if own and argument.free_symbols <= set(leaf_symbols) else leaf_symbols
        for k in range(LINES):
            base = bases[k % len(bases)].leaves
            direction = {s: rng.choice((-1, 1)) * rng.uniform(0.5, 1.5) * max(abs(float(base[s])), 1.0)
                         for s in moved if s in base}

            def at(t: float) -> dict[sp.Symbol, sp.Rational]:
                return {s: (v + sp.Rational(repr(t * direction[s])) if s in direction else v)
                        for s, v in base.items()}

            def sign(t: float) -> int | None:
                value = program.evaluate(ctx.valuation(at(t)), MP)
                return None if value is None else (value > 0) - (value < 0)

            bracket = _bracket(sign, rng)
            if bracket is None:
                continue
            lo, hi = _bisect(sign, *bracket)
            width = max(abs(hi - lo), 1e-12 * max(1.0, abs(lo)))
            for t in (lo - width, hi + width):
                leaves = at(t)
                out.append(Point(leaves, ctx.valuation(leaves)))
    return out


def _bracket(sign, rng: random.Random) -> tuple[float, float] | None:
    """Two line parameters where the argument has opposite signs (or None)."""
    ts = sorted({0.0, *(rng.choice((-1, 1)) * 10 ** rng.uniform(-3, 3) for _ in range(SCAN - 1))})
    previous = None
    for t in ts:
        s = sign(t)
        if s is None:
            continue
        if previous is not None and s != previous[1] and s != 0 and previous[1] != 0:
            return previous[0], t
        previous = (t, s)
    return None


def _bisect(sign, lo: float, hi: float) -> tuple[float, float]:
    """Narrow the bracket [lo, hi] (float line parameters; each sign() sets its own precision)."""
    s_lo = sign(lo)
    for _ in range(BISECT):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        s = sign(mid)
        if s is None or s == 0:
            break
        if s == s_lo:
            lo = mid
        else:
            hi = mid
    return lo, hi

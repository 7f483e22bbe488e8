"""Numbers from SymPy expressions without ``eval``: a small interpreter over the expression DAG.

The checker evaluates answers (already parsed by the allow-list) and the engine's formulas
thousands of times: at random points to high precision (mpmath) when comparing an answer
with the correct one, and in float64 over boxes of hand-rounded figures when grading a
worked solution. :func:`compile_expr` turns an expression into a :class:`Program`: its
distinct subexpressions in evaluation order, each with an operation from a fixed table.
No code is generated and nothing is ``exec``-ed. Every result is bounded: anything
non-finite, complex or larger than ``1e250`` makes the point *undefined* instead of running
away (``exp(exp(exp(100)))`` is refused in microseconds). Each evaluation first looks at
the time budget of the answer being checked (:func:`.budget.check`), which stops it there.

>>> import sympy as sp
>>> from symbackprop.functions import sigmoid
>>> x, y = sp.symbols("x y")
>>> program = compile_expr(sigmoid(x) * (1 - sigmoid(x)) + y**2)
>>> round(program.evaluate({x: 0.0, y: 3.0}, FLOAT), 6)
9.25
>>> program.evaluate({x: 0.0, y: 3.0}, MP)
mpf('9.25')
>>> compile_expr(sp.log(x)).evaluate({x: -1.0}, FLOAT) is None
True
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import mpmath
import sympy as sp

from ..functions import ACTIVATION_FUNCTIONS, absolute, maximum, minimum
from .budget import check as check_budget

__all__ = ["Program", "compile_expr", "FLOAT", "MP", "Unsupported", "BOUND"]

BOUND = 1e250
"""Largest magnitude any intermediate value may reach; beyond it the point is undefined."""


class Unsupported(ValueError):
    """The expression uses something the interpreter does not know (never user input)."""


class _Undefined(ArithmeticError):
    """The value is undefined or out of range at this point."""


class _Backend:
    """The arithmetic one evaluation uses: float64 (``FLOAT``) or mpmath at the working precision (``MP``)."""

    def __init__(self, name: str, number: Callable[[sp.Expr], Any], funcs: Mapping[str, Callable]):
        self.name, self.number, self.funcs = name, number, funcs

    def __repr__(self) -> str:
        return f"<backend {self.name}>"


def _check(value):
    if isinstance(value, complex) or isinstance(value, mpmath.mpc):
        raise _Undefined("complex")
    if value != value or abs(value) > BOUND:  # nan, inf, huge
        raise _Undefined("out of range")
    return value


def _float_exp(x):
    if x > 575:
        raise _Undefined("exp overflow")
    return math.exp(x)


def _float_log(x):
    if x <= 0:
        raise _Undefined("log of a non-positive number")
    return math.log(x)


def _float_sqrt(x):
    if x < 0:
        raise _Undefined("sqrt of a negative number")
    return math.sqrt(x)


def _mp_exp(x):
    if x > 575:
        raise _Undefined("exp overflow")
    return mpmath.exp(x)


def _mp_log(x):
    if x <= 0:
        raise _Undefined("log of a non-positive number")
    return mpmath.log(x)


def _mp_sqrt(x):
    if x < 0:
        raise _Undefined("sqrt of a negative number")
    return mpmath.sqrt(x)


def _common(exp, log, sqrt, tanh, sin, cos, facet: str) -> dict[str, Callable]:
    """The operation table of one arithmetic; symbackprop's own functions bring their own
    evaluation (``float_value`` / ``mp_value`` on each class of :data:`ACTIVATION_FUNCTIONS`)."""
    return {
        "exp": exp, "log": log, "sqrt": sqrt, "tanh": tanh, "sin": sin, "cos": cos,
        "heaviside": lambda x, h: 1 + 0 * x if x > 0 else (0 * x if x < 0 else h),
        "abs": abs, "sign": lambda x: 1 + 0 * x if x > 0 else (-1 + 0 * x if x < 0 else 0 * x),
    } | {cls.__name__: getattr(cls, facet) for cls in ACTIVATION_FUNCTIONS}


FLOAT = _Backend("float", lambda e: float(e), _common(
    _float_exp, _float_log, _float_sqrt, math.tanh, math.sin, math.cos, "float_value"))


def _mp_number(e: sp.Expr):
    if e.is_Rational:
        return mpmath.mpf(e.p) / e.q
    return mpmath.mpf(sp.Float(sp.N(e, mpmath.mp.dps + 5), mpmath.mp.dps + 5)._mpf_)


MP = _Backend("mp", _mp_number, _common(
    _mp_exp, _mp_log, _mp_sqrt, mpmath.tanh, mpmath.sin, mpmath.cos, "mp_value"))


def _power(base, exponent):
    if base == 0 and exponent < 0:
        raise _Undefined("division by zero")
    if base < 0 and exponent != int(exponent):
        raise _Undefined("fractional power of a negative number")
    if base != 0 and abs(exponent) * math.log10(abs(float(base)) + 1e-300) > 250:
        raise _Undefined("power out of range")
    return base ** exponent


_FUNCTIONS: dict[type, str] = {
    sp.exp: "exp", sp.log: "log", sp.tanh: "tanh", sp.sin: "sin", sp.cos: "cos", sp.Abs: "abs",
    sp.Heaviside: "heaviside", absolute: "abs", sp.sign: "sign",
} | {cls: cls.__name__ for cls in ACTIVATION_FUNCTIONS}
_RELATIONS = {
    sp.StrictGreaterThan: lambda a, b: a > b, sp.GreaterThan: lambda a, b: a >= b,
    sp.StrictLessThan: lambda a, b: a < b, sp.LessThan: lambda a, b: a <= b,
}


@dataclass(frozen=True)
class Program:
    """An expression as a list of steps over its distinct subexpressions (a DAG, shared once).

    ``steps[i] = (kind, payload, argument indices)``; the last step is the result.
    """

    expr: sp.Expr
    steps: tuple[tuple[str, Any, tuple[int, ...]], ...]
    symbols: tuple[sp.Symbol, ...]
    _constants: dict = field(default_factory=dict, repr=False, compare=False)

    def _numbers(self, backend: _Backend) -> dict[int, Any]:
        key = (backend.name, mpmath.mp.prec if backend is MP else 53)
        if key not in self._constants:
            self._constants[key] = {i: backend.number(payload) for i, (kind, payload, _) in
                                    enumerate(self.steps) if kind == "num"}
        return self._constants[key]

    def evaluate(self, values: Mapping[sp.Symbol, Any], backend: _Backend = FLOAT):
        """The value at ``values`` (symbol → number), or ``None`` where it is undefined.

        A symbol missing from ``values`` raises ``KeyError`` (a bug, never user input).
        """
        check_budget()  # each evaluation is where a check spends its time: stop here when it is up
        vals: list[Any] = []
        numbers = self._numbers(backend)
        try:
            for kind, payload, args in self.steps:
                a = [vals[i] for i in args]
                if kind == "sym":
                    v = values[payload]
                elif kind == "num":
                    v = numbers[len(vals)]
                elif kind == "add":
                    v = a[0]
                    for x in a[1:]:
                        v = v + x
                elif kind == "mul":
                    v = a[0]
                    for x in a[1:]:
                        v = v * x
                elif kind == "pow":
                    v = _power(a[0], a[1])
                elif kind == "fn":
                    v = backend.funcs[payload](*a)
                elif kind == "max":
                    v = max(a)
                elif kind == "min":
                    v = min(a)
                elif kind == "rel":
                    v = bool(payload(a[0], a[1]))
                elif kind == "true":
                    v = True
                elif kind == "piecewise":  # args: value, condition, value, condition, ...
                    v = None
                    for j in range(0, len(a), 2):
                        if a[j + 1]:
                            v = a[j]
                            break
                    if v is None:
                        raise _Undefined("no piece applies")
                else:  # pragma: no cover - compile_expr only emits the kinds above
                    raise Unsupported(kind)
                vals.append(v if kind in ("rel", "true") else _check(v))
        except (_Undefined, ZeroDivisionError, OverflowError, ValueError, TypeError):
            return None
        return vals[-1]

    def evaluate_many(self, points: Sequence[Mapping[sp.Symbol, Any]], backend: _Backend = FLOAT) -> list:
        return [self.evaluate(p, backend) for p in points]


def compile_expr(expr: sp.Expr) -> Program:
    """Compile ``expr`` (numbers, symbols, + · ^, the project's functions, Heaviside, Piecewise).

    Raises :class:`Unsupported` for anything else.
    """
    expr = sp.sympify(expr)
    index: dict[sp.Basic, int] = {}
    steps: list[tuple[str, Any, tuple[int, ...]]] = []
    stack: list[tuple[sp.Basic, bool]] = [(expr, False)]
    while stack:
        node, ready = stack.pop()
        if node in index:
            continue
        children = _children(node)
        if not ready:
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(children) if c not in index)
            continue
        args = tuple(index[c] for c in children)
        steps.append(_step(node, args))
        index[node] = len(steps) - 1
    symbols = tuple(sorted(expr.free_symbols, key=str))
    return Program(expr, tuple(steps), symbols)


def _children(node: sp.Basic) -> list[sp.Basic]:
    if isinstance(node, sp.Piecewise):
        out: list[sp.Basic] = []
        for value, cond in node.args:
            out += [value, cond]
        return out
    if node.is_Symbol or node.is_Number or node in (sp.true, sp.false) or isinstance(node, sp.NumberSymbol):
        return []
    return list(node.args)


def _step(node: sp.Basic, args: tuple[int, ...]) -> tuple[str, Any, tuple[int, ...]]:
    if node.is_Symbol:
        return ("sym", node, ())
    if node.is_Number or isinstance(node, sp.NumberSymbol):
        if node in (sp.nan, sp.oo, -sp.oo, sp.zoo):
            raise Unsupported(str(node))
        return ("num", node, ())
    if node is sp.true:
        return ("true", None, ())
    if node.is_Add:
        return ("add", None, args)
    if node.is_Mul:
        return ("mul", None, args)
    if node.is_Pow:
        return ("pow", None, args)
    if isinstance(node, (sp.Max, maximum)):
        return ("max", None, args)
    if isinstance(node, (sp.Min, minimum)):
        return ("min", None, args)
    if isinstance(node, sp.Piecewise):
        return ("piecewise", None, args)
    for cls, rel in _RELATIONS.items():
        if isinstance(node, cls):
            return ("rel", rel, args)
    for cls, name in _FUNCTIONS.items():
        if isinstance(node, cls):
            if name == "heaviside" and len(args) == 1:
                raise Unsupported("Heaviside without a value at 0")
            return ("fn", name, args)
    raise Unsupported(type(node).__name__)

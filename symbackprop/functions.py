r"""Activation functions as SymPy functions: exact derivatives, LaTeX and stable NumPy code.

>>> import sympy as sp
>>> x, a = sp.symbols("x alpha")
>>> sp.diff(sigmoid(x), x)
(1 - sigmoid(x))*sigmoid(x)
>>> sp.diff(relu(x), x), relu(sp.Rational(-3, 2)), relu(sp.Rational(3, 2))
(Heaviside(x, 0), 0, 3/2)
>>> sp.diff(leaky_relu(x, a), x).subs(x, 0)
alpha
>>> sp.latex(sigmoid(x)**2)
'\\sigma^{2}\\left(x\\right)'
>>> f = sp.lambdify(x, sigmoid(x), modules="numpy")   # uses the stable ``_numpycode``
>>> float(f(-1000.0)), float(f(1000.0))
(0.0, 1.0)

SymPy's NumPy printers (also the one ``lambdify`` picks for ``modules="numpy"`` or the
default, SciPy) call ``_numpycode``; the plain-Python printer (``modules="math"``) calls
``_pythoncode``. Other back ends (mpmath, cupy, jax) are not supported.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import mpmath
import numpy as np
import sympy as sp
from mpmath.libmp import prec_to_dps
from sympy import S
from sympy.core.logic import fuzzy_and
from sympy.printing.numpy import NumPyPrinter

from .ordering import OrderedTermsMixin

__all__ = ["sigmoid", "relu", "leaky_relu", "softplus", "absolute", "maximum", "minimum", "numpy_printer",
           "NUMPY_FUNCTIONS", "ACTIVATION_FUNCTIONS", "EXTREMA"]


def _numeric(fn: Callable[[Any], Any], x: sp.Float) -> sp.Float:
    """``fn`` evaluated with mpmath at the precision of the Float ``x``."""
    prec = x._prec
    with mpmath.workprec(prec + 10):
        value = fn(x._to_mpmath(prec + 10))
    return sp.Float(value, precision=prec)


def _module(printer: Any, name: str) -> str:
    """``name`` prefixed the way ``printer`` wants (e.g. ``numpy.tanh`` or ``tanh``)."""
    return printer._module_format(name)


class _Activation(sp.Function):
    """Shared behaviour: numeric ``evalf`` by evaluating the arguments first, then ``eval``."""

    def _eval_evalf(self, prec: int) -> sp.Expr:
        return self.func(*[a.evalf(prec_to_dps(prec)) for a in self.args])

    def _eval_is_extended_real(self) -> bool | None:
        return fuzzy_and(a.is_extended_real for a in self.args)

    def _latex_name(self, printer: Any) -> str:
        raise NotImplementedError

    def _latex(self, printer: Any, exp: str | None = None) -> str:
        name = self._latex_name(printer)
        if exp is not None:
            name = f"{name}^{{{exp}}}"
        return rf"{name}\left({printer._print(self.args[0])}\right)"


class sigmoid(_Activation):
    """The logistic function ``1/(1 + exp(-x))``; ``sigmoid(0)`` is exactly ``1/2``."""

    @staticmethod
    def float_value(x: float) -> float:
        """σ(x) in float64 without overflow (the checker's evaluator)."""
        return 0.5 * (1.0 + math.tanh(0.5 * x))

    @staticmethod
    def mp_value(x: Any) -> Any:
        """σ(x) in mpmath at the working precision."""
        if x < -575:
            return mpmath.exp(x) / (1 + mpmath.exp(x))
        return 1 / (1 + mpmath.exp(-x))


    nargs = 1

    @classmethod
    def eval(cls, x: sp.Expr) -> sp.Expr | None:
        if x.is_Float:
            return _numeric(lambda t: 1 / (1 + mpmath.exp(-t)), x)
        if x.is_zero:
            return S.Half
        if x is S.Infinity:
            return S.One
        if x is S.NegativeInfinity:
            return S.Zero
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, x: sp.Expr, **kwargs: Any) -> sp.Expr:
        return 1 / (1 + sp.exp(-x))

    def _eval_rewrite_as_tanh(self, x: sp.Expr, **kwargs: Any) -> sp.Expr:
        return (1 + sp.tanh(x / 2)) / 2

    def _eval_is_positive(self) -> bool | None:
        return self.args[0].is_extended_real

    def _latex_name(self, printer: Any) -> str:
        return r"\sigma"

    def _numpycode(self, printer: Any, **kwargs: Any) -> str:
        # exp(-logaddexp(0, -x)): no overflow, full relative accuracy in both tails
        x = printer._print(self.args[0])
        return f"{_module(printer, 'numpy.exp')}(-{_module(printer, 'numpy.logaddexp')}(0, -({x})))"

    def _pythoncode(self, printer: Any, **kwargs: Any) -> str:
        return f"0.5*(1 + {_module(printer, 'math.tanh')}(0.5*({printer._print(self.args[0])})))"


class relu(_Activation):
    """``max(0, x)``; its derivative is ``Heaviside(x, 0)`` (0 at the kink, deliberately)."""

    @staticmethod
    def float_value(x: Any) -> Any:
        """max(0, x) in any arithmetic (float64 or mpmath); 0 at the kink."""
        return x if x > 0 else 0 * x

    mp_value = float_value


    nargs = 1

    @classmethod
    def eval(cls, x: sp.Expr) -> sp.Expr | None:
        if x is S.NaN:
            return S.NaN
        if x.is_number and x.is_extended_real:
            if x.is_extended_positive:
                return x
            if x.is_extended_nonpositive:
                return S.Zero
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.Heaviside(self.args[0], 0)

    def _eval_rewrite_as_Max(self, x: sp.Expr, **kwargs: Any) -> sp.Expr:
        return sp.Max(0, x)

    def _eval_rewrite_as_Piecewise(self, x: sp.Expr, **kwargs: Any) -> sp.Expr:
        return sp.Piecewise((x, x > 0), (0, True))

    def _eval_is_nonnegative(self) -> bool | None:
        return self.args[0].is_extended_real

    def _latex_name(self, printer: Any) -> str:
        return r"\operatorname{ReLU}"

    def _numpycode(self, printer: Any, **kwargs: Any) -> str:
        return f"{_module(printer, 'numpy.maximum')}({printer._print(self.args[0])}, 0)"

    def _pythoncode(self, printer: Any, **kwargs: Any) -> str:
        return f"max({printer._print(self.args[0])}, 0)"


class leaky_relu(_Activation):
    """``x`` if ``x > 0`` else ``alpha*x``; ``d/dx`` is ``alpha`` at 0, ``d/dalpha`` is ``x`` for ``x <= 0``."""

    @staticmethod
    def float_value(x: Any, alpha: Any) -> Any:
        """x for x > 0, else αx, in any arithmetic (float64 or mpmath)."""
        return x if x > 0 else alpha * x

    mp_value = float_value


    nargs = 2

    @classmethod
    def eval(cls, x: sp.Expr, alpha: sp.Expr) -> sp.Expr | None:
        if x is S.NaN:
            return S.NaN
        if x.is_number and x.is_extended_real:
            if x.is_extended_positive:
                return x
            if x.is_extended_nonpositive:
                return alpha * x
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        x, alpha = self.args
        if argindex == 1:
            return sp.Piecewise((1, x > 0), (alpha, True))
        if argindex == 2:
            return sp.Piecewise((0, x > 0), (x, True))
        raise sp.ArgumentIndexError(self, argindex)

    def _eval_rewrite_as_Piecewise(self, x: sp.Expr, alpha: sp.Expr, **kwargs: Any) -> sp.Expr:
        return sp.Piecewise((x, x > 0), (alpha * x, True))

    def _latex_name(self, printer: Any) -> str:
        return rf"\operatorname{{LeakyReLU}}_{{{printer._print(self.args[1])}}}"

    def _numpycode(self, printer: Any, **kwargs: Any) -> str:
        x, alpha = (printer._print(a) for a in self.args)
        return f"{_module(printer, 'numpy.where')}(({x}) > 0, {x}, ({alpha})*({x}))"

    def _pythoncode(self, printer: Any, **kwargs: Any) -> str:
        x, alpha = (printer._print(a) for a in self.args)
        return f"(({x}) if ({x}) > 0 else ({alpha})*({x}))"


class softplus(_Activation):
    """``log(1 + exp(x))``, whose derivative is ``sigmoid(x)``; ``softplus(0)`` is ``log(2)``."""

    @staticmethod
    def float_value(x: float) -> float:
        """log(1 + eˣ) in float64 without overflow."""
        return max(x, 0.0) + math.log1p(math.exp(-abs(x)))

    @staticmethod
    def mp_value(x: Any) -> Any:
        """log(1 + eˣ) in mpmath at the working precision."""
        if x > 575:
            return x + mpmath.log1p(mpmath.exp(-x))
        return mpmath.log1p(mpmath.exp(x))


    nargs = 1

    @classmethod
    def eval(cls, x: sp.Expr) -> sp.Expr | None:
        if x.is_Float:
            return _numeric(lambda t: mpmath.log1p(mpmath.exp(t)), x)
        if x.is_zero:
            return sp.log(2)
        if x is S.Infinity:
            return S.Infinity
        if x is S.NegativeInfinity:
            return S.Zero
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sigmoid(self.args[0])

    def _eval_rewrite_as_exp(self, x: sp.Expr, **kwargs: Any) -> sp.Expr:
        return sp.log(1 + sp.exp(x))

    _eval_rewrite_as_log = _eval_rewrite_as_exp

    def _eval_is_positive(self) -> bool | None:
        return self.args[0].is_extended_real

    def _latex_name(self, printer: Any) -> str:
        return r"\operatorname{softplus}"

    def _numpycode(self, printer: Any, **kwargs: Any) -> str:
        return f"{_module(printer, 'numpy.logaddexp')}(0, {printer._print(self.args[0])})"

    def _pythoncode(self, printer: Any, **kwargs: Any) -> str:
        x = printer._print(self.args[0])
        return f"(max({x}, 0) + {_module(printer, 'math.log1p')}({_module(printer, 'math.exp')}(-abs({x}))))"


class _HeavisideNumPyPrinter(OrderedTermsMixin, NumPyPrinter):
    """NumPy printer that writes ``Heaviside(x, h0)`` as ``numpy.heaviside(x, h0)``."""

    def _print_Heaviside(self, expr: sp.Heaviside) -> str:
        x, h0 = (self._print(a) for a in expr.args)
        return f"{self._module_format('numpy.heaviside')}({x}, {h0})"


def numpy_printer(**settings: Any) -> NumPyPrinter:
    """A NumPy printer for these functions, printing ``Heaviside(x, 0)`` as ``numpy.heaviside(x, 0)``.

    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> numpy_printer().doprint(sp.diff(relu(x), x))
    'numpy.heaviside(x, 0)'
    >>> f = sp.lambdify(x, sp.diff(relu(x), x), printer=numpy_printer())
    >>> [float(f(v)) for v in (-1.0, 0.0, 2.0)]
    [0.0, 0.0, 1.0]
    """
    return _HeavisideNumPyPrinter(settings)


def _np_sigmoid(x: Any) -> Any:
    return np.exp(-np.logaddexp(0, -np.asarray(x, dtype=float)))


NUMPY_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sigmoid": _np_sigmoid,
    "relu": lambda x: np.maximum(x, 0),
    "leaky_relu": lambda x, alpha: np.where(np.asarray(x) > 0, x, np.multiply(alpha, x)),
    "softplus": lambda x: np.logaddexp(0, x),
}
"""Plain NumPy versions of the functions (``lambdify`` does not need them: it uses ``_numpycode``)."""


class absolute(sp.Function):
    """``|x|`` for real arguments: derivative ``sign(x)`` (0 at the kink), unlike SymPy's complex ``Abs``.

    >>> x = sp.Symbol("x")
    >>> sp.diff(absolute(x), x), absolute(sp.Rational(-3, 2))
    (sign(x), 3/2)
    """

    nargs = 1

    @classmethod
    def eval(cls, x: sp.Expr) -> sp.Expr | None:
        if x.is_number and x.is_extended_real:
            return sp.Abs(x)
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.sign(self.args[0])

    def _eval_evalf(self, prec: int) -> sp.Expr:
        return sp.Abs(self.args[0])._eval_evalf(prec)

    def _latex(self, printer: Any, exp: str | None = None) -> str:
        body = rf"\left|{printer._print(self.args[0])}\right|"
        return f"{body}^{{{exp}}}" if exp else body

    def _numpycode(self, printer: Any, **kwargs: Any) -> str:
        return f"{_module(printer, 'numpy.abs')}({printer._print(self.args[0])})"

    def _pythoncode(self, printer: Any, **kwargs: Any) -> str:
        return f"abs({printer._print(self.args[0])})"

    def _sympystr(self, printer: Any) -> str:  # reads back as the spec's own function name
        return f"abs({printer._print(self.args[0])})"


class _Extremum(sp.Function):
    """``max``/``min`` of any number of arguments, in the order written, with the tie to the first.

    Nested calls are flattened and the numbers among the arguments come first (combined into
    one), so ``max(max(a, b), c)`` is ``max(a, b, c)`` and ``max(x, 0)`` is ``max(0, x)`` — ReLU.
    ``∂/∂aᵢ`` is 1 where ``aᵢ`` is the first argument attaining the extremum, else 0: the
    product of ``𝟙[aᵢ > aⱼ]`` over earlier ``aⱼ`` and ``𝟙[aᵢ ≥ aⱼ]`` over later ones (for
    ``min``, ``<`` and ``≤``) — a subgradient whose weights sum to 1 at every tie.
    """

    _sign = 1          # +1: max, -1: min
    _name = "max"

    @classmethod
    def _beats(cls, a: sp.Expr, b: sp.Expr) -> bool:
        return bool(cls._sign * (a - b) > 0)

    @classmethod
    def eval(cls, *args: sp.Expr) -> sp.Expr | None:
        if not args:
            raise TypeError(f"{cls._name}() needs at least one argument")
        flat = [b for a in args for b in (a.args if isinstance(a, cls) else (a,))]
        numbers = [a for a in flat if a.is_comparable]
        others = list(dict.fromkeys(a for a in flat if not a.is_comparable))
        best = []
        for n in numbers:
            if not best or cls._beats(n, best[0]):
                best = [n]
        new = tuple(best + others)
        if len(new) == 1:
            return new[0]
        return None if new == args else cls(*new)

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        i = argindex - 1
        if not 0 <= i < len(self.args):
            raise sp.ArgumentIndexError(self, argindex)
        a = self.args[i]
        gaps = [self._sign * (a - b) for b in self.args]
        return sp.Mul(*[sp.Heaviside(g, 0 if j < i else 1) for j, g in enumerate(gaps) if j != i])

    def _eval_evalf(self, prec: int) -> sp.Expr:
        return self.func(*[a.evalf(prec_to_dps(prec)) for a in self.args])

    def _eval_is_extended_real(self) -> bool | None:
        return fuzzy_and(a.is_extended_real for a in self.args)

    def _sympystr(self, printer: Any) -> str:  # SymPy's Max/Min: sympy.parse_expr reads it back
        return f"{self._name.capitalize()}({', '.join(printer._print(a) for a in self.args)})"

    def _latex(self, printer: Any, exp: str | None = None) -> str:
        tex = rf"\{self._name}\left({', '.join(printer._print(a) for a in self.args)}\right)"
        return f"{tex}^{{{exp}}}" if exp else tex

    def _numpycode(self, printer: Any, **kwargs: Any) -> str:
        fn = _module(printer, f"numpy.{self._name}imum")
        code = printer._print(self.args[-1])
        for a in reversed(self.args[:-1]):
            code = f"{fn}({printer._print(a)}, {code})"
        return code

    def _pythoncode(self, printer: Any, **kwargs: Any) -> str:
        return f"{self._name}({', '.join(printer._print(a) for a in self.args)})"


class maximum(_Extremum):
    """``max(a₁, …, aₙ)``; the derivative gives a tie to the first argument attaining it.

    >>> a, b, c = sp.symbols("a b c")
    >>> maximum(maximum(a, b), c), maximum(a, 0), maximum(2, 3)
    (Max(a, b, c), Max(0, a), 3)
    >>> [sp.diff(maximum(a, b, c), v).subs({a: 1, b: 1, c: 1}) for v in (a, b, c)]
    [1, 0, 0]
    >>> sp.diff(maximum(a, 0), a)        # ReLU's derivative, 0 at the kink
    Heaviside(a, 0)
    """


class minimum(_Extremum):
    """``min(a₁, …, aₙ)``; the derivative gives a tie to the first argument attaining it.

    >>> a, b = sp.symbols("a b")
    >>> sp.diff(minimum(a, b), a), sp.diff(minimum(a, b), b)
    (Heaviside(-a + b, 1), Heaviside(a - b, 0))
    """

    _sign = -1
    _name = "min"


EXTREMA: tuple[type, ...] = (maximum, minimum)
"""symbackprop's ``max``/``min`` (what spec and answer text mean by them; SymPy's sort their arguments)."""

ACTIVATION_FUNCTIONS: tuple[type, ...] = (sigmoid, relu, leaky_relu, softplus)
"""symbackprop's own functions; each carries its SymPy rules, LaTeX, stable NumPy code
(``_numpycode``) and float64/mpmath evaluation (``float_value``, ``mp_value``) — adding one is one class."""

"""Printing SymPy as NumPy code: the code printer (stable forms of the activations) and the variable namer."""
from __future__ import annotations

import builtins
import keyword

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from ..functions import absolute, leaky_relu, relu, sigmoid, softplus

FORMS = ("auto", "matrix", "scalar")


CSE_LIMIT = 200_000


"""Largest scalar program (total operations) that is passed through ``sympy.cse``."""


_RESERVED = set(keyword.kwlist) | set(keyword.softkwlist) | set(dir(builtins)) | {"numpy", "functools"}


class CodePrinter(NumPyPrinter):
    """NumPy printer for generated gradient code: stable helpers, ``numpy.where`` for
    two-branch piecewise functions, and nothing taken from the functions' own ``_numpycode``
    (so the helpers defined in the generated module are used). symbackprop's ``maximum`` and
    ``minimum`` print through NumPyPrinter's own ``_print_maximum``/``_print_minimum``
    (``functools.reduce(numpy.maximum, [...])``): values only, ties are decided in the derivative."""

    def __init__(self, settings: dict | None = None):
        super().__init__(settings)
        self.printmethod = "_symbackprop_gradient_code"

    def _print_sigmoid(self, expr: sigmoid) -> str:
        return f"_sigmoid({self._print(expr.args[0])})"

    def _print_softplus(self, expr: softplus) -> str:
        return f"numpy.logaddexp(0, {self._print(expr.args[0])})"

    def _print_relu(self, expr: relu) -> str:
        return f"numpy.maximum({self._print(expr.args[0])}, 0)"

    def _print_leaky_relu(self, expr: leaky_relu) -> str:
        x, alpha = (self._print(a) for a in expr.args)
        return f"numpy.where(({x}) > 0, {x}, ({alpha})*({x}))"

    def _print_Abs(self, expr: sp.Abs | absolute) -> str:
        return f"numpy.abs({self._print(expr.args[0])})"

    _print_absolute = _print_Abs   # the spec's abs(): real |x|, derivative sign(x)

    def _print_sign(self, expr: sp.sign) -> str:
        return f"numpy.sign({self._print(expr.args[0])})"

    def _print_Heaviside(self, expr: sp.Heaviside) -> str:
        x, h0 = (self._print(a) for a in expr.args)
        return f"numpy.heaviside({x}, {h0})"

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        if expr.args[-1].cond is not sp.true:
            return super()._print_Piecewise(expr)
        code = f"({self._print(expr.args[-1].expr)})"
        for piece in reversed(expr.args[:-1]):
            code = f"numpy.where({self._print(piece.cond)}, {self._print(piece.expr)}, {code})"
        return code


class Namer:
    """Python names for symbols: the symbol's own name where it is a safe identifier."""

    def __init__(self) -> None:
        self.taken = set(_RESERVED)
        self.names: dict[sp.Symbol, str] = {}

    def __call__(self, symbol: sp.Symbol) -> str:
        if symbol not in self.names:
            text = str(symbol)
            base = text if text.isidentifier() and not text.startswith("_") else "v"
            name, i = base, 1
            while name in self.taken:
                name, i = f"{base}_{i}", i + 1
            self.taken.add(name)
            self.names[symbol] = name
        return self.names[symbol]

    def mapping(self, symbols) -> dict[sp.Symbol, sp.Symbol]:
        """Symbol → symbol carrying its Python name (only where the name differs)."""
        out = {}
        for s in symbols:
            name = self(s)
            if name != str(s):
                out[s] = sp.Symbol(name)
        return out

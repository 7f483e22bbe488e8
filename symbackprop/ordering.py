"""SymPy's printing order of a sum's terms, computed at the cost of the sum.

SymPy's printers order the terms of an ``Add`` with :meth:`~sympy.core.expr.Expr.as_ordered_terms`
(lex order of the monomials over the sum's generators). Its general algorithm asks every factor
for its numeric value and assumptions; for the sums a derivation produces -- products of plain
symbols and their integer powers times a number -- :func:`ordered_terms` computes the same order
directly, and falls back to SymPy for anything else (so the printed text is byte-identical).
:class:`OrderedTermsMixin` puts it into a printer.

>>> import sympy as sp
>>> w1, w2, o1, o2, t = sp.symbols("w1 w2 o1 o2 t")
>>> e = w2*o2 + w1*o1 - t + 3*o1**2 + 1
>>> ordered_terms(e) == e.as_ordered_terms()
True
>>> ordered_terms(e)
[3*o1**2, o1*w1, o2*w2, -t, 1]
"""
from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.core.numbers import NumberSymbol
from sympy.printing.str import StrPrinter

__all__ = ["ordered_terms", "OrderedTermsMixin", "text"]

_SYMBOL = sp.Symbol


def _name(symbol: sp.Symbol) -> str:
    return symbol.name


def _plain_product(term: sp.Expr) -> bool:
    """A plain symbol, or a product of plain symbols only (no number, no power)."""
    return type(term) is _SYMBOL or (term.is_Mul and all(type(a) is _SYMBOL for a in term.args))


def _monomial(term: sp.Expr) -> dict[sp.Symbol, int] | None:
    """``{symbol: exponent}`` of a number times plain symbols and integer powers, else None."""
    _, rest = term.as_coeff_Mul()
    if rest is sp.S.One:
        return {}
    powers: dict[sp.Symbol, int] = {}
    for factor in (rest.args if rest.is_Mul else (rest,)):
        if type(factor) is _SYMBOL:
            powers[factor] = 1
        elif factor.is_Pow and type(factor.base) is _SYMBOL and factor.exp.is_Integer:
            powers[factor.base] = int(factor.exp)
        else:
            return None
    return powers


def _special_pair(expr: sp.Add) -> list[sp.Expr] | None:
    """SymPy's own special case: ``Number + Mul(negative Number, ...)`` keeps the number first."""
    if len(expr.args) != 2:
        return None
    key = lambda x: not isinstance(x, (sp.Number, NumberSymbol))  # noqa: E731 - SymPy's key
    add_args = sorted(expr.args, key=key)
    if isinstance(add_args[0], (sp.Number, NumberSymbol)) and isinstance(add_args[1], sp.Mul):
        mul_args = sorted(sp.Mul.make_args(add_args[1]), key=key)
        if (len(mul_args) == 2 and isinstance(mul_args[0], sp.Number) and add_args[0].is_positive
                and mul_args[0].is_negative):
            return add_args
    return None


def ordered_terms(expr: sp.Expr) -> list[sp.Expr]:
    """``expr.as_ordered_terms()`` (the default order), fast for polynomial terms in plain symbols."""
    if not expr.is_Add:
        return expr.as_ordered_terms()
    special = _special_pair(expr)
    if special is not None:
        return special
    monomials = [_monomial(t) for t in expr.args]
    if any(m is None for m in monomials):
        return expr.as_ordered_terms()
    gens = sorted({s for m in monomials for s in m}, key=_name)
    index = {s: i for i, s in enumerate(gens)}
    keys = []
    for m in monomials:
        monom = [0] * len(gens)
        for s, e in m.items():  # type: ignore[union-attr]
            monom[index[s]] = -e
        keys.append(tuple(monom))
    if len(set(keys)) != len(keys):  # equal monomials: SymPy's coefficient tie-break decides
        return expr.as_ordered_terms()
    return [t for _, t in sorted(zip(keys, expr.args), key=lambda pair: pair[0])]


class OrderedTermsMixin:
    """A printer mixin: sums in the default order through :func:`ordered_terms` (cached per sum),
    and a product of plain symbols (``delta_j*out_i``) joined directly in SymPy's factor order
    (by name) with :meth:`_symbol_product` -- what SymPy's ``_print_Mul`` prints for it."""

    order: Any
    _ordered_cache: dict

    def _print_Mul(self, expr: sp.Expr, *args: Any, **kwargs: Any) -> str:
        if expr.is_Mul and self.order is None and all(type(a) is _SYMBOL for a in expr.args):
            return self._symbol_product([self._print(a) for a in sorted(expr.args, key=_name)])  # type: ignore
        return super()._print_Mul(expr, *args, **kwargs)  # type: ignore[misc]

    def _symbol_product(self, factors: list[str]) -> str:
        return "*".join(factors)

    def _print_Add(self, expr: sp.Expr, order: Any = None) -> str:
        if order is None and self.order is None and all(_plain_product(t) for t in expr.args):
            return self._plain_sum([self._print(t) for t in self._as_ordered_terms(expr)])
        return super()._print_Add(expr, order=order)  # type: ignore[misc]

    def _plain_sum(self, terms: list[str]) -> str:
        """What ``StrPrinter._print_Add`` writes for a sum of plain symbols and their products."""
        parts: list[str] = []
        for t in terms:
            parts += ["-", t[1:]] if t.startswith("-") else ["+", t]
        sign = parts.pop(0)
        return ("" if sign == "+" else sign) + " ".join(parts)

    def _as_ordered_terms(self, expr: sp.Expr, order: Any = None) -> list[sp.Expr]:
        if (order or self.order) not in (None, "lex"):
            return super()._as_ordered_terms(expr, order=order)  # type: ignore[misc]
        cache = self.__dict__.setdefault("_ordered_cache", {})
        terms = cache.get(expr)
        if terms is None:
            terms = cache[expr] = ordered_terms(expr)
        return list(terms)


class _TextPrinter(OrderedTermsMixin, StrPrinter):
    """``str(expr)``'s printer with the fast term order."""


def text(expr: sp.Basic) -> str:
    """``str(expr)``, byte for byte, at the cost of the expression.

    >>> x, y = sp.symbols("x y")
    >>> text(y*x + x**2 - 1) == str(y*x + x**2 - 1)
    True
    """
    return _TextPrinter().doprint(expr)

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
from sympy.printing.precedence import precedence
from sympy.printing.str import StrPrinter

__all__ = ["ordered_terms", "ordered_factors", "sort_key", "OrderedTermsMixin", "text", "Texts"]

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


def _value(factor: sp.Expr, values: dict) -> complex | None:
    """``complex(factor)`` (None where SymPy cannot evaluate it), computed once per factor."""
    if factor in values:
        return values[factor]
    try:
        got: complex | None = complex(factor)
    except (TypeError, ValueError):
        got = None
    values[factor] = got
    return got


def _as_ordered_terms(expr: sp.Add, values: dict) -> list[sp.Expr]:
    """SymPy's ``as_terms`` and default ``as_ordered_terms`` sort for a sum, with the numeric
    value of each factor (SymPy's own ``complex(factor)``) looked up in ``values`` -- a closed
    form's nested numbers are evaluated once, not once per enclosing sum."""
    from sympy.core.exprtools import decompose_power

    gens: set = set()
    terms = []
    for term in expr.args:
        coeff, rest = term.as_coeff_Mul()
        value = complex(coeff)
        cpart: dict = {}
        ncpart = []
        if rest is not sp.S.One:
            for factor in (rest.args if rest.is_Mul else (rest,)):
                if factor.is_number:
                    got = _value(factor, values)
                    if got is not None:
                        value *= got
                        continue
                if factor.is_commutative:
                    base, exp = decompose_power(factor)
                    cpart[base] = exp
                    gens.add(base)
                else:
                    ncpart.append(factor)
        terms.append((term, ((value.real, value.imag), cpart, tuple(ncpart))))
    if any(term.is_Order for term, _ in terms):
        return expr.as_ordered_terms()
    index = {g: i for i, g in enumerate(sorted(gens, key=sp.default_sort_key))}
    data = []
    for term, (value, cpart, ncpart) in terms:
        monom = [0] * len(index)
        for base, exp in cpart.items():
            monom[index[base]] = exp
        data.append((term, (value, tuple(monom), ncpart)))
    key, reverse = expr._parse_order(None)
    return [term for term, _ in sorted(data, key=key, reverse=reverse)]


def ordered_terms(expr: sp.Expr, values: dict | None = None) -> list[sp.Expr]:
    """``expr.as_ordered_terms()`` (the default order), fast for polynomial terms in plain symbols;
    ``values``: numeric values of factors already computed, shared between calls.

    >>> e = sp.exp(sp.Rational(-1, 3)) - sp.exp(sp.Rational(1, 5)) + 2
    >>> ordered_terms(e) == e.as_ordered_terms()
    True
    """
    if not expr.is_Add:
        return expr.as_ordered_terms()
    special = _special_pair(expr)
    if special is not None:
        return special
    monomials = [_monomial(t) for t in expr.args]
    if any(m is None for m in monomials):
        return _as_ordered_terms(expr, {} if values is None else values)
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


_EXPR_SORT_KEY = sp.Expr.sort_key


def sort_key(expr: sp.Basic, cache: dict | None = None) -> tuple:
    """``expr.sort_key()``, with the sums in it ordered by :func:`ordered_terms` (``cache``: keys
    already computed, shared between calls).

    >>> x, y, o = sp.symbols("x y o")
    >>> e = o*(1 - o)*(x*y + 2*x + 1)
    >>> sort_key(e) == e.sort_key()
    True
    """
    cache = {} if cache is None else cache
    key = cache.get(expr)
    if key is None:
        key = cache[expr] = _sort_key(expr, cache)
    return key


def _sort_key(expr: sp.Basic, cache: dict) -> tuple:
    """SymPy's ``Expr.sort_key`` (order ``None``) step by step; other classes keep their own."""
    if type(expr).sort_key is not _EXPR_SORT_KEY:
        return expr.sort_key()
    coeff, rest = expr.as_coeff_Mul()
    exp = sp.S.One
    if rest.is_Pow:
        base, exp = rest.as_base_exp()
        if base is sp.S.Exp1:  # SymPy sorts E**x as exp(x)
            return expr.sort_key()
        rest = base
    if rest.is_Dummy:
        args: tuple = (rest.sort_key(),)
    elif rest.is_Atom:
        args = (str(rest),)
    else:
        parts = ordered_terms(rest) if rest.is_Add else ordered_factors(rest, cache) if rest.is_Mul else rest.args
        args = tuple(sort_key(a, cache) for a in parts)
    return rest.class_key(), (len(args), args), sort_key(exp, cache), coeff


def ordered_factors(expr: sp.Expr, cache: dict | None = None) -> list[sp.Expr]:
    """``expr.as_ordered_factors()`` (the default order), at the cost of the product.

    >>> o, x, y = sp.symbols("o x y")
    >>> e = (x*y + x)*o*(1 - o)
    >>> ordered_factors(e) == e.as_ordered_factors()
    True
    """
    if not expr.is_Mul:
        return expr.as_ordered_factors()
    cache = {} if cache is None else cache
    commutative, rest = expr.args_cnc()
    prefixes = [_key_prefix(f) for f in commutative]
    if None in prefixes:
        commutative.sort(key=lambda f: sort_key(f, cache))
    else:  # the whole key only where two factors tie on class and size (a long sum's is costly)
        keys = {id(f): (*p, _Later(f, cache)) for f, p in zip(commutative, prefixes)}
        commutative.sort(key=lambda f: keys[id(f)])
    return commutative + rest


def _key_prefix(expr: sp.Expr) -> tuple | None:
    """The start of :func:`sort_key` -- the class key and the number of arguments -- or None
    where :func:`_sort_key` hands the key to SymPy (but for a symbol, whose key SymPy writes so)."""
    if type(expr) is _SYMBOL:
        return expr.class_key(), 1
    if type(expr).sort_key is not _EXPR_SORT_KEY:
        return None
    rest = expr.as_coeff_Mul()[1]
    if rest.is_Pow:
        base = rest.as_base_exp()[0]
        if base is sp.S.Exp1:
            return None
        rest = base
    return rest.class_key(), 1 if rest.is_Dummy or rest.is_Atom else len(rest.args)


class _Later:
    """A factor's whole :func:`sort_key`, computed when a comparison needs it."""

    __slots__ = ("expr", "cache", "key")

    def __init__(self, expr: sp.Expr, cache: dict) -> None:
        self.expr, self.cache, self.key = expr, cache, None

    def whole(self) -> tuple:
        if self.key is None:
            self.key = sort_key(self.expr, self.cache)
        return self.key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Later) and self.whole() == other.whole()

    def __lt__(self, other: "_Later") -> bool:
        return self.whole() < other.whole()

    __hash__ = None  # type: ignore[assignment]


def _product_parts(expr: sp.Expr) -> tuple[bool, sp.Expr] | None:
    """``(negative, product)`` for ``±product``, a commutative product of two or more symbols,
    sums, positive integer powers of those and functions other than ``exp`` -- the products whose
    printing :class:`OrderedTermsMixin` writes itself -- else None."""
    if not expr.is_commutative:
        return None
    coeff, rest = expr.as_coeff_Mul()
    if coeff not in (1, -1) or not rest.is_Mul:
        return None
    for f in rest.args:
        if f.is_Pow:
            if not (f.exp.is_Integer and f.exp > 0 and (type(f.base) is _SYMBOL or f.base.is_Add)):
                return None
        elif not (type(f) is _SYMBOL or f.is_Add or (isinstance(f, sp.Function) and not isinstance(f, sp.exp))):
            return None
    return coeff == -1, rest


class OrderedTermsMixin:
    """A printer mixin: sums in the default order through :func:`ordered_terms` (cached per sum),
    and a product of plain symbols (``delta_j*out_i``) joined directly in SymPy's factor order
    (by name) with :meth:`_symbol_product` -- what SymPy's ``_print_Mul`` prints for it."""

    order: Any
    _ordered_cache: dict

    def _print_Mul(self, expr: sp.Expr, *args: Any, **kwargs: Any) -> str:
        if expr.is_Mul and self.order is None:
            if all(type(a) is _SYMBOL for a in expr.args):
                return self._symbol_product([self._print(a) for a in sorted(expr.args, key=_name)])  # type: ignore
            parts = _product_parts(expr)
            if parts is not None:
                cache = self.__dict__.setdefault("_sort_key_cache", {})
                return self._ordered_product(expr, parts[0], ordered_factors(parts[1], cache))
        return super()._print_Mul(expr, *args, **kwargs)  # type: ignore[misc]

    def _symbol_product(self, factors: list[str]) -> str:
        return "*".join(factors)

    def _ordered_product(self, expr: sp.Expr, negative: bool, factors: list[sp.Expr]) -> str:
        """What ``StrPrinter._print_Mul`` (and the code printers') write for ``±`` the product of
        ``factors`` (in SymPy's order; no number, no denominator)."""
        level = precedence(expr)
        return ("-" if negative else "") + "*".join(self.parenthesize(f, level) for f in factors)  # type: ignore

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
            terms = cache[expr] = ordered_terms(expr, self.__dict__.setdefault("_value_cache", {}))
        return list(terms)


class _TextPrinter(OrderedTermsMixin, StrPrinter):
    """``str(expr)``'s printer with the fast term order; each distinct sub-expression is printed
    once (what ``StrPrinter`` prints for a node depends only on the node, and for a Float on
    whether it is the outermost one)."""

    def _print(self, expr: Any, **kwargs: Any) -> str:
        if kwargs or not isinstance(expr, sp.Basic) or not expr.args:
            return super()._print(expr, **kwargs)
        memo = self.__dict__.setdefault("_text_memo", {})
        key = (expr, self._print_level == 0)
        got = memo.get(key)
        if got is None:
            got = memo[key] = super()._print(expr)
        return got


def text(expr: sp.Basic) -> str:
    """``str(expr)``, byte for byte, at the cost of the expression.

    >>> x, y = sp.symbols("x y")
    >>> text(y*x + x**2 - 1) == str(y*x + x**2 - 1)
    True
    """
    return _TextPrinter().doprint(expr)


class Texts:
    """:func:`text` for many expressions that share sub-expressions (the closed forms of one
    network's values): each distinct sub-expression is printed, and each number in it
    evaluated for the term order, once for all of them.

    >>> x = sp.Symbol("x")
    >>> texts = Texts()
    >>> texts(x + 1), texts(x*(x + 1))
    ('x + 1', 'x*(x + 1)')
    """

    def __init__(self) -> None:
        self._printer = _TextPrinter()

    def __call__(self, expr: sp.Basic) -> str:
        return self._printer.doprint(expr)

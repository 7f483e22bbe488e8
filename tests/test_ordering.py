"""The fast printers (symbackprop.ordering) print exactly what SymPy's printers print."""
from __future__ import annotations

import random

import pytest
import sympy as sp
from sympy.printing.latex import LatexPrinter

from conftest import EXAMPLE_SPECS, derivation
from symbackprop.latex import _Printer, lecture_form, symbol_names, to_latex
from symbackprop.ordering import ordered_terms, text


class _SympyLatex(LatexPrinter):
    """SymPy's own LaTeX printer with the project's ReLU-derivative notation, nothing else."""

    _print_Heaviside = _Printer._print_Heaviside


def _sympy_latex(expr):
    """SymPy's LaTeX of the lecture form (factor × sum) that ``to_latex`` prints."""
    expr = lecture_form(expr)
    return _SympyLatex({"symbol_names": symbol_names(expr)}).doprint(expr)


def _fast_latex(expr):
    """``to_latex`` in SymPy's factor order (no δ written first), to compare term order alone."""
    return to_latex(expr, leading=frozenset())


def _expressions(d):
    yield d.loss_definition
    for _, e in d.definitions():
        yield e
    for g in d.gradients.values():
        yield g.expression


def _subexpressions(expr):
    yield from sp.preorder_traversal(expr)


@pytest.mark.parametrize("spec", EXAMPLE_SPECS, ids=[p.stem for p in EXAMPLE_SPECS])
def test_every_sum_and_product_of_an_example_prints_as_sympy_prints_it(spec):
    d = derivation(str(spec))
    for expr in _expressions(d):
        assert text(expr) == str(expr)
        assert _fast_latex(expr) == _sympy_latex(expr)
        for sub in _subexpressions(expr):
            if sub.is_Add:
                assert ordered_terms(sub) == sub.as_ordered_terms()


def test_random_polynomials_are_ordered_as_sympy_orders_them():
    rng = random.Random(20)
    symbols = sp.symbols("a b c w_1 w_10 w_2 out_B out_a x1__2 x1__10 delta_T")
    for _ in range(300):
        terms = []
        for _ in range(rng.randint(2, 6)):
            factors = [rng.choice([-3, -1, 1, 2, sp.Rational(1, 2), sp.Float(0.25)])]
            factors += [rng.choice(symbols) ** rng.choice([1, 1, 1, 2, -1]) for _ in range(rng.randint(0, 3))]
            terms.append(sp.Mul(*factors))
        expr = sp.Add(*terms)
        if expr.is_Add:
            assert ordered_terms(expr) == expr.as_ordered_terms()
        assert text(expr) == str(expr)
        assert _fast_latex(expr) == _sympy_latex(expr)


def test_numeric_sums_are_ordered_as_sympy_orders_them():
    """Sums of numbers, exps, logs and products of them (closed forms): SymPy's order, with
    each factor's value computed once and shared between sums."""
    rng = random.Random(3)
    x = sp.Symbol("x")

    def number(depth):
        r = sp.Rational(rng.randint(-9, 9), rng.randint(1, 9))
        if depth == 0 or rng.random() < 0.3:
            return r
        kind = rng.choice(["exp", "log", "add", "mul", "pow"])
        if kind == "exp":
            return sp.exp(number(depth - 1))
        if kind == "log":
            return sp.log(1 + sp.exp(number(depth - 1)))
        if kind == "add":
            return number(depth - 1) + number(depth - 1)
        if kind == "mul":
            return number(depth - 1) * number(depth - 1)
        return 1 / (1 + sp.exp(-number(depth - 1)))

    shared: dict = {}
    checked = 0
    for _ in range(300):
        terms = [number(3) for _ in range(rng.randint(2, 5))]
        if rng.random() < 0.3:
            terms.append(rng.choice([x, 2 * x, x * sp.exp(number(1))]))
        e = sp.Add(*terms)
        if e.is_Add:
            assert ordered_terms(e, shared) == e.as_ordered_terms(), e
            checked += 1
    assert checked > 200


def test_random_products_are_ordered_as_sympy_orders_them():
    """Factors of products of symbols, sums (of equal lengths too, so the whole key decides),
    powers and functions: SymPy's ``as_ordered_factors``, though the whole sort key of a factor
    is only computed where two tie on class and size."""
    from symbackprop.functions import sigmoid
    from symbackprop.ordering import ordered_factors

    rng = random.Random(21)
    symbols = sp.symbols("a b c w_1 w_10 w_2 out_B out_a delta_T")
    d = sp.Dummy("d")

    def factor():
        kind = rng.random()
        if kind < 0.35:
            return rng.choice(symbols)
        if kind < 0.7:
            return sp.Add(*[sp.Mul(*rng.sample(symbols, rng.randint(1, 2))) for _ in range(rng.randint(2, 4))],
                          rng.choice([0, 1, -1]))
        if kind < 0.8:
            return rng.choice(symbols + (d,)) ** rng.choice([2, 3, -1, sp.Rational(1, 2)])
        if kind < 0.9:
            return rng.choice([sigmoid, sp.exp, sp.Heaviside, sp.tanh])(rng.choice(symbols))
        return 1 - rng.choice(symbols)

    products = 0
    for _ in range(600):
        e = sp.Mul(*[factor() for _ in range(rng.randint(2, 5))], rng.choice([1, 1, -1, 2]))
        if e.is_Mul:
            products += 1
            assert ordered_factors(e) == e.as_ordered_factors(), e
            assert text(e) == str(e)
    assert products > 500

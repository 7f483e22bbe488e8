"""Custom SymPy functions: values against `math`, derivatives, printing, lambdify."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import sympy as sp

from symbackprop.functions import NUMPY_FUNCTIONS, leaky_relu, numpy_printer, relu, sigmoid, softplus

x, y, alpha = sp.symbols("x y alpha")
POINTS = [-30.0, -2.5, -1.0, -0.1, 0.0, 0.3, 1.0, 2.5, 30.0]


def ref_sigmoid(v: float) -> float:
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


def ref_softplus(v: float) -> float:
    return max(v, 0.0) + math.log1p(math.exp(-abs(v)))


# --- exact values and eval -----------------------------------------------------------------

def test_exact_values() -> None:
    assert sigmoid(0) == sp.S.Half and isinstance(sigmoid(0), sp.Rational)
    assert sigmoid(sp.oo) == 1 and sigmoid(-sp.oo) == 0
    assert softplus(0) == sp.log(2)
    assert relu(sp.Rational(-3, 2)) == 0
    assert relu(sp.Rational(3, 2)) == sp.Rational(3, 2) and isinstance(relu(sp.Rational(3, 2)), sp.Rational)
    assert relu(0) == 0
    assert relu(sp.pi - 3) == sp.pi - 3
    assert leaky_relu(-2, sp.Rational(1, 10)) == sp.Rational(-1, 5)
    assert leaky_relu(-2, alpha) == -2 * alpha
    assert leaky_relu(3, alpha) == 3


def test_symbolic_and_integer_arguments_stay_unevaluated() -> None:
    assert isinstance(sigmoid(x), sigmoid)
    assert isinstance(sigmoid(2), sigmoid)  # exact non-zero argument: kept exact
    assert isinstance(relu(x), relu) and isinstance(leaky_relu(x, alpha), leaky_relu)
    assert isinstance(softplus(1), softplus)


@pytest.mark.parametrize("v", POINTS)
def test_float_arguments_evaluate(v: float) -> None:
    assert float(sigmoid(sp.Float(v))) == pytest.approx(ref_sigmoid(v), rel=1e-14, abs=1e-300)
    assert float(softplus(sp.Float(v))) == pytest.approx(ref_softplus(v), rel=1e-14, abs=1e-300)
    assert float(relu(sp.Float(v))) == max(v, 0.0)
    assert float(leaky_relu(sp.Float(v), sp.Float(0.1))) == pytest.approx(v if v > 0 else 0.1 * v)


@pytest.mark.parametrize("v", [-3, -1, 1, 2, 5])
def test_evalf_and_N_match_math(v: int) -> None:
    assert float(sigmoid(v).evalf()) == pytest.approx(ref_sigmoid(v), rel=1e-15)
    assert float(sp.N(softplus(v))) == pytest.approx(ref_softplus(v), rel=1e-15)
    assert float(sp.N(leaky_relu(v, sp.Rational(1, 10)))) == pytest.approx(v if v > 0 else v / 10)
    assert float(sp.N(sigmoid(sp.sqrt(v**2)))) == pytest.approx(ref_sigmoid(abs(v)), rel=1e-15)


def test_evalf_in_extreme_tails_and_high_precision() -> None:
    tiny = sp.N(sigmoid(-1000))  # ~5.08e-435: below float range, but SymPy/mpmath keep it
    assert tiny > 0 and float(sp.log(tiny)) == pytest.approx(-1000 - math.log1p(math.exp(-1000)), rel=1e-15)
    assert float(sp.N(sigmoid(1000))) == 1.0
    assert sp.N(softplus(1000)) == pytest.approx(1000)
    third = sp.Rational(1, 3)
    assert str(sp.N(sigmoid(third), 50)) == str(sp.N(1 / (1 + sp.exp(-third)), 50))
    assert str(sp.N(softplus(third), 40)) == str(sp.N(sp.log(1 + sp.exp(third)), 40))


def test_subs_and_xreplace_with_numbers_evaluate() -> None:
    e = sigmoid(x) * relu(y) + softplus(x)
    got = e.subs({x: 0.5, y: -2.0})
    assert got.is_Float and float(got) == pytest.approx(ref_softplus(0.5))
    got = e.xreplace({x: sp.Float(1.5), y: sp.Float(2.0)})
    assert float(got) == pytest.approx(ref_sigmoid(1.5) * 2 + ref_softplus(1.5))
    exact = e.subs({x: 0, y: sp.Rational(1, 3)})
    assert exact == sp.Rational(1, 6) + sp.log(2)
    assert float(sigmoid(x).subs(x, 2).evalf()) == pytest.approx(ref_sigmoid(2))


# --- derivatives -----------------------------------------------------------------------------

def test_sigmoid_derivative() -> None:
    assert sp.diff(sigmoid(x), x) == sigmoid(x) * (1 - sigmoid(x))
    assert sp.diff(sigmoid(x), x).subs(x, 0) == sp.Rational(1, 4)
    via_exp = sp.diff(sigmoid(x).rewrite(sp.exp), x)
    assert sp.simplify(via_exp - sp.diff(sigmoid(x), x).rewrite(sp.exp)) == 0


def test_relu_derivative_is_zero_at_the_kink() -> None:
    d = sp.diff(relu(x), x)
    assert d == sp.Heaviside(x, 0)
    assert [d.subs(x, v) for v in (-1, 0, 2)] == [0, 0, 1]


def test_leaky_relu_derivatives() -> None:
    dx, da = sp.diff(leaky_relu(x, alpha), x), sp.diff(leaky_relu(x, alpha), alpha)
    assert dx == sp.Piecewise((1, x > 0), (alpha, True))
    assert dx.subs(x, 0) == alpha and dx.subs(x, 3) == 1
    assert da.subs(x, 0) == 0 and da.subs(x, -2) == -2 and da.subs(x, 5) == 0


def test_softplus_derivative_and_rewrite() -> None:
    assert sp.diff(softplus(x), x) == sigmoid(x)
    assert softplus(x).rewrite(sp.exp) == sp.log(1 + sp.exp(x))
    assert sigmoid(x).rewrite(sp.exp) == 1 / (1 + sp.exp(-x))


def test_chain_rule_through_composites_matches_finite_differences() -> None:
    e = softplus(sigmoid(x * y) + relu(x - y)) * leaky_relu(x**2 - 2, sp.Rational(1, 10))
    d = sp.diff(e, x)
    f = sp.lambdify((x, y), e)
    g = sp.lambdify((x, y), d)
    for xv, yv in [(0.7, 0.2), (1.9, -0.4), (-0.3, 0.5)]:
        h = 1e-6
        numeric = (f(xv + h, yv) - f(xv - h, yv)) / (2 * h)
        assert float(g(xv, yv)) == pytest.approx(numeric, rel=1e-6)


# --- printing ----------------------------------------------------------------------------------

def test_latex() -> None:
    assert sp.latex(sigmoid(x)) == r"\sigma\left(x\right)"
    assert sp.latex(sigmoid(x) ** 2) == r"\sigma^{2}\left(x\right)"
    assert sp.latex(relu(x + 1)) == r"\operatorname{ReLU}\left(x + 1\right)"
    assert sp.latex(leaky_relu(x, alpha)) == r"\operatorname{LeakyReLU}_{\alpha}\left(x\right)"
    assert sp.latex(softplus(x)) == r"\operatorname{softplus}\left(x\right)"


def test_numpy_code() -> None:
    p = numpy_printer()
    assert p.doprint(relu(x)) == "numpy.maximum(x, 0)"
    assert p.doprint(softplus(x)) == "numpy.logaddexp(0, x)"
    assert p.doprint(leaky_relu(x, alpha)) == "numpy.where((x) > 0, x, (alpha)*(x))"
    assert "numpy.exp" in p.doprint(sigmoid(x)) and "logaddexp" in p.doprint(sigmoid(x))
    assert p.doprint(sp.Heaviside(x, 0)) == "numpy.heaviside(x, 0)"
    assert p.doprint(sp.diff(relu(2 * x), x)) == "2*numpy.heaviside(2*x, 0)"


def _no_warnings_call(f, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # overflow / invalid value would be an error
        return np.asarray(f(*args), dtype=float)


@pytest.mark.parametrize("modules", ["numpy", None])
def test_lambdify_is_stable_at_plus_minus_1000(modules: str | None) -> None:
    v = np.array([-1000.0, -1.0, 0.0, 1.0, 1000.0])
    kw = {} if modules is None else {"modules": modules}
    s = _no_warnings_call(sp.lambdify(x, sigmoid(x), **kw), v)
    assert np.all(np.isfinite(s))
    assert abs(s[0]) < 1e-300 and abs(s[-1] - 1) < 1e-300
    assert s[1:4] == pytest.approx([ref_sigmoid(-1), 0.5, ref_sigmoid(1)], rel=1e-15)
    sp_ = _no_warnings_call(sp.lambdify(x, softplus(x), **kw), v)
    assert sp_ == pytest.approx([0.0, ref_softplus(-1), math.log(2), ref_softplus(1), 1000.0], rel=1e-15)
    assert _no_warnings_call(sp.lambdify(x, relu(x), **kw), v).tolist() == [0, 0, 0, 1, 1000]
    leaky = _no_warnings_call(sp.lambdify((x, alpha), leaky_relu(x, alpha), **kw), v, 0.1)
    assert leaky == pytest.approx([-100.0, -0.1, 0.0, 1.0, 1000.0])
    ds = _no_warnings_call(sp.lambdify(x, sp.diff(sigmoid(x), x), **kw), v)
    assert np.all(np.isfinite(ds)) and ds[2] == 0.25


@pytest.mark.parametrize("v", POINTS)
def test_lambdify_agrees_with_math_and_evalf(v: float) -> None:
    e = sigmoid(x) + 2 * softplus(x) - relu(x) + leaky_relu(x, sp.Rational(1, 4))
    expected = ref_sigmoid(v) + 2 * ref_softplus(v) - max(v, 0) + (v if v > 0 else v / 4)
    assert float(sp.lambdify(x, e, modules="numpy")(v)) == pytest.approx(expected, rel=1e-13)
    assert float(sp.lambdify(x, e, modules="math")(v)) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert float(e.subs(x, sp.Float(v)).evalf()) == pytest.approx(expected, rel=1e-13)


def test_lambdify_with_heaviside_printer() -> None:
    e = sp.diff(relu(x) + sigmoid(x), x)
    f = sp.lambdify(x, e, printer=numpy_printer())
    got = _no_warnings_call(f, np.array([-1000.0, 0.0, 2.0, 1000.0]))
    assert got == pytest.approx([0.0, 0.25, 1 + ref_sigmoid(2) * (1 - ref_sigmoid(2)), 1.0])


def test_numpy_functions_dict() -> None:
    v = np.array([-1000.0, 0.0, 1000.0])
    assert set(NUMPY_FUNCTIONS) == {"sigmoid", "relu", "leaky_relu", "softplus"}
    assert _no_warnings_call(NUMPY_FUNCTIONS["sigmoid"], v).tolist() == [0.0, 0.5, 1.0]
    assert _no_warnings_call(NUMPY_FUNCTIONS["softplus"], v) == pytest.approx([0.0, math.log(2), 1000.0])
    assert NUMPY_FUNCTIONS["leaky_relu"](v, 0.5).tolist() == [-500.0, 0.0, 1000.0]
    assert NUMPY_FUNCTIONS["relu"](v).tolist() == [0.0, 0.0, 1000.0]

"""Exact arithmetic (symbackprop.exact): WE-10's integers and WE-8's rationals exactly, closed
forms for sigmoid networks, decimals equal to the float64 numbers, a size guard."""
from __future__ import annotations

import random

import pytest
import sympy as sp

import reference

from conftest import EXAMPLES, EXAMPLE_SPECS, derivation, ids
from symbackprop import SpecError, derive, spec_from_mapping
from symbackprop.exact import closed_form, decimal_value, exact_numbers
from symbackprop.functions import sigmoid, softplus

R = sp.Rational


def test_we10_relu_step_is_exact_integers():
    e = exact_numbers(derivation(str(EXAMPLES / "we10-relu-one-step.yaml")))
    assert e.all_rational
    assert (e.forward["out_h1"], e.forward["out_h2"], e.forward["out_z"]) == (1, 0, 1)   # h = (1, 0), z = 1
    assert e.forward["E"] == R(1, 2)                                                      # J = 1/2
    assert (e.gradients["w2_1"], e.gradients["w2_2"]) == (-1, 0)                          # dJ/dw2 = (-1, 0)
    assert [[e.gradients["W1_11"], e.gradients["W1_12"]],
            [e.gradients["W1_21"], e.gradients["W1_22"]]] == [[-1, 0], [0, 0]]           # dJ/dW1
    assert (e.updated_params["w2_1"], e.updated_params["w2_2"]) == (2, 2)                 # w2 <- (2, 2)
    assert all(isinstance(v, sp.Integer) for v in e.gradients.values())


def test_we8_linear_regression_is_exact():
    e = exact_numbers(derivation(str(EXAMPLES / "we08-linear-regression.yaml")))
    assert e.forward["out_z__1"] == 3 and e.forward["E"] == R(1, 2)                     # z = 3, J = 1/2
    assert [e.gradients[w] for w in ("w1", "w2", "b")] == [1, 0, 1]
    assert [e.updated_params[w] for w in ("w1", "w2", "b")] == [R(1, 2), 0, R(3, 2)]     # w <- (1/2, 0), b <- 3/2
    data = e.to_dict()
    assert data["loss"] == "1/2" and data["gradients"] == {"w1": "1", "w2": "0", "b": "1"}
    assert data["updated_params"] == {"w1": "1/2", "w2": "0", "b": "3/2"}
    assert data["forward"] == {"z": {"net": ["3"], "out": ["3"]}}


def test_sigmoid_values_are_closed_forms_with_decimals():
    e = exact_numbers(derivation(str(EXAMPLES / "we05-221-sigmoid.yaml")))
    assert e.forward["net_T"] == R(151, 200)                        # 0.35·0.1 + 0.9·0.8 exactly
    assert e.forward["out_T"] == sigmoid(R(151, 200))
    assert not e.all_rational
    assert closed_form(e.forward["out_T"]) == "1/(exp(-151/200) + 1)"
    assert sp.parse_expr(e.to_dict()["forward"]["T"]["out"]) == 1 / (1 + sp.exp(-R(151, 200)))
    decimals = e.to_dict(decimals=True, digits=12)
    assert decimals["forward"]["T"]["out"] == "0.680267196699"     # WE-5: 0.680267
    assert float(decimals["loss"]) == pytest.approx(0.018104, abs=6e-7)
    assert float(decimals["gradients"]["w_TF"]) == pytest.approx(0.3 - 0.272326, abs=1e-6)


VALUED = [p for p in EXAMPLE_SPECS if {"values", "data"} & set(reference.load(p))]


@pytest.mark.parametrize("path", VALUED, ids=ids(VALUED))
def test_exact_decimals_equal_the_float_numbers(path):
    d = derivation(str(path))
    e = exact_numbers(d)
    decimals = e.to_dict(decimals=True)
    n = d.numbers
    assert float(decimals["loss"]) == pytest.approx(n.forward[d.loss_name], rel=1e-12, abs=1e-15)
    for w, value in n.gradients.items():
        assert float(decimals["gradients"][w]) == pytest.approx(value, rel=1e-11, abs=1e-14), w
        if e.gradients[w] is not None:
            assert float(e.gradients[w]) == pytest.approx(value, rel=1e-11, abs=1e-14), w
    if n.updated_params:
        assert float(decimals["loss_after_update"]) == pytest.approx(n.forward_after[d.loss_name], rel=1e-11)
    if d.is_variant:
        for w, value in n.true_gradients.items():
            assert float(decimals["variant"]["true_gradient_values"][w]) == pytest.approx(value, rel=1e-11)


def test_large_closed_forms_are_not_written_out():
    d = derivation(str(EXAMPLES / "we02-paths-3-3-3-3-2.yaml"))
    small = exact_numbers(d, limit=50).to_dict()
    assert small["forward"]["h1_1"]["out"] == "1/(exp(-11/20) + 1)"
    assert small["loss"] is None and small["gradients"]["w1_1_1"] is None
    assert exact_numbers(d, limit=50).to_dict(decimals=True)["gradients"]["w1_1_1"] is not None


def test_exact_needs_values():
    with pytest.raises(SpecError, match="needs values"):
        exact_numbers(derivation(str(EXAMPLES / "we04-232-symbolic.yaml")))


def test_relu_kink_is_decided_exactly():
    """0.1·3 − 0.3 is exactly 0 in rationals (not 5.6e-17): ReLU'(0) = 0, so no gradient flows."""
    d = derive(spec_from_mapping({
        "name": "kink", "inputs": ["x", "y"],
        "neurons": {"h": {"from": {"x": "a", "y": "b"}, "activation": "relu"},
                    "o": {"from": {"h": "c"}, "activation": "identity"}},
        "outputs": ["o"], "loss": "half_sse",
        "values": {"inputs": {"x": 3, "y": 1}, "params": {"a": 0.1, "b": -0.3, "c": 2}, "targets": {"o": 1}}}))
    e = exact_numbers(d)
    assert e.forward["net_h"] == 0 and e.gradients["a"] == 0 and e.gradients["c"] == 0
    assert e.forward["E"] == R(1, 2)


def _replace_and_print(value):
    """The closed form as SymPy writes it: ``replace`` each function, then ``str``."""
    from symbackprop.functions import softplus
    value = value.replace(sigmoid, lambda a: 1 / (1 + sp.exp(-a)))
    return str(value.replace(softplus, lambda a: sp.log(1 + sp.exp(a))))


@pytest.mark.parametrize("activation", ["sigmoid", "softplus", "tanh"])
def test_closed_forms_printed_once_for_all_values_are_sympys_text(activation):
    """One ClosedForms for all the values of a network (shared rewriting, printing and term
    order) writes what replace-then-str writes for each value on its own."""
    from symbackprop.exact import ClosedForms
    import random
    rng = random.Random(7)
    widths = [2, 3, 2]
    spec = spec_from_mapping({
        "name": "t", "layers": widths, "activation": activation, "loss": "half_sse",
        "values": {"inputs": {"x": [round(rng.uniform(0, 1), 2) for _ in range(2)]},
                   "targets": {"y": [0.25, 0.75]},
                   "params": {f"W{i + 1}": [[round(rng.uniform(-1, 1), 2) for _ in range(a)] for _ in range(b)]
                              for i, (a, b) in enumerate(zip(widths, widths[1:]))}},
        "learning_rate": 0.5})
    exact = exact_numbers(derive(spec))
    values = [v for group in (exact.forward, exact.deltas, exact.gradients, exact.forward_after)
              for v in group.values() if v is not None]
    assert sum(1 for v in values if not v.is_Rational) > 10   # closed forms, not only rationals
    shared = ClosedForms()
    assert [shared(v) for v in values] == [_replace_and_print(v) for v in values]


def _same_number(a: sp.Expr, b: sp.Expr) -> bool:
    """Equal to the last bit and of the same kind (a Float of the same precision, or the same number)."""
    if a.is_Float or b.is_Float:
        return type(a) is type(b) and a._mpf_ == b._mpf_ and a._prec == b._prec
    return type(a) is type(b) and a == b


def test_decimals_are_the_bits_substitution_gives():
    """decimal_value against xreplace (SymPy building and evaluating each node): random sums,
    products, powers and activations of 40-digit Floats, rationals, zeros and ones, and every
    definition of the shipped examples at their decimals."""
    a, b = sp.symbols("a b")
    zero, one, third = sp.Float(0, 40), sp.Float(1, 40), sp.Rational(1, 3)
    for e, table in [(a * third, {a: one}), (a + third, {a: zero}), (a + b, {a: zero, b: zero}),
                     (a * b, {a: zero, b: one}), (a + b + third, {a: zero, b: -third}), (a * b, {a: one, b: third}),
                     (2 * a, {a: sp.Float(1, 15)}), (a + b, {a: sp.Float("0.1", 40), b: sp.Float("0.2", 15)})]:
        assert _same_number(decimal_value(e, table), e.xreplace(table)), (e, table)
    rng = random.Random(7)
    leaves = sp.symbols("a0:6")
    checked = 0
    for _ in range(400):
        table = {s: sp.Float(rng.choice([rng.uniform(-3, 3), 0.0, 1.0, -1.0]), 40) if rng.random() < 0.9
                 else sp.Rational(rng.randint(-5, 5), rng.randint(1, 4)) for s in leaves}

        def expr(depth):
            if depth == 0 or rng.random() < 0.25:
                return rng.choice(leaves + (sp.Rational(rng.randint(-3, 3), rng.randint(1, 3)),))
            kind = rng.choice(["add", "add", "mul", "mul", "pow", "fn"])
            if kind == "add":
                return sp.Add(*[expr(depth - 1) for _ in range(rng.randint(2, 5))])
            if kind == "mul":
                return sp.Mul(*[expr(depth - 1) for _ in range(rng.randint(2, 4))])
            if kind == "pow":
                return expr(depth - 1) ** rng.choice([2, -1, sp.Rational(1, 2)])
            return rng.choice([sigmoid, softplus, sp.tanh, sp.exp])(expr(depth - 1))

        e = expr(4)
        expected = e.xreplace(table)
        got = decimal_value(e, table)
        assert _same_number(got, expected) or (got == expected and not expected.is_Float), (e, table)
        checked += expected.is_Float
    assert checked > 200
    for path in VALUED:
        d = derivation(str(path))
        e = exact_numbers(d)
        table = {sp.Symbol(k): v for k, v in e.decimal.items()}
        for symbol, definition in d.definitions():
            assert _same_number(decimal_value(definition, table), definition.xreplace(table)), (path.name, symbol)

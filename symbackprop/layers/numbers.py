"""The layer view at the spec's values: every vector and matrix as numbers, and one update step.

Values are exact (SymPy Rationals) when every forward value is rational — identity, ReLU and
polynomial networks with decimal inputs, like WE-10 — and float64 otherwise; ``exact=True``
or ``False`` forces one. The forward values come from the derivation's own numbers
(:mod:`symbackprop.exact` for exact ones); the δ vectors, Jacobians and gradients are the
layer view's formulas evaluated at them, so they are the matrix form's own results (the
tests compare them with the scalar derivation's figures and the lectures').

>>> from symbackprop import derive, load_spec
>>> from symbackprop.layers import layer_view
>>> n = layer_numbers(layer_view(derive(load_spec("examples/we10-relu-one-step.yaml"))))
>>> n.exact, n.loss, n.weight_gradients[0].tolist(), n.updated_weights[1].tolist()
(True, 1/2, [[-1, 0], [0, 0]], [[2, 2]])
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from fractions import Fraction
from typing import Mapping

import sympy as sp
from mpmath.libmp import from_float, to_float

from ..errors import SpecError
from ..exact import decimal_value, exact_numbers
from ..straightline import evaluate
from .view import LayerView, Matrix

EXACT_SIZE_LIMIT = 2000
"""Largest parameters × examples for which exact values are tried automatically."""


@dataclass(frozen=True)
class ExampleNumbers:
    """One example's vectors and Jacobians at the given values."""

    example: int | None
    inputs: Matrix
    targets: Matrix
    nets: tuple[Matrix, ...]
    outs: tuple[Matrix, ...]
    loss_gradient: Matrix                   # ∂E⁽ᵖ⁾/∂z (row)
    activation_jacobians: tuple[Matrix, ...]
    back: tuple[Matrix | None, ...]         # W⁽ˡ⁺¹⁾ᵀδ⁽ˡ⁺¹⁾ (None for the last layer)
    deltas: tuple[Matrix, ...]
    outer: tuple[Matrix, ...]               # δ⁽ˡ⁾h⁽ˡ⁻¹⁾ᵀ of this example (before s and R)
    neuron_outs: tuple[Matrix, ...] = ()    # o⁽ˡ⁾ = f(a⁽ˡ⁾), before a layer's element-wise map


@dataclass(frozen=True)
class LayerNumbers:
    """The whole layer view in numbers (exact SymPy numbers or Floats)."""

    view: LayerView
    exact: bool
    weights: tuple[Matrix, ...]
    biases: tuple[Matrix | None, ...]
    examples: tuple[ExampleNumbers, ...]
    loss: sp.Expr
    weight_gradients: tuple[Matrix, ...]
    bias_gradients: tuple[Matrix | None, ...]
    updated_weights: tuple[Matrix, ...] | None = None
    updated_biases: tuple[Matrix | None, ...] | None = None
    loss_after: sp.Expr | None = None


def _values(view: LayerView, exact: bool | None) -> tuple[dict[sp.Symbol, sp.Expr], bool, sp.Expr | None]:
    """Every forward symbol's value, whether they are exact (when asked, or with ``None`` when all
    are rational), and the exact loss after the step when the scalar derivation has it."""
    d = view.derivation
    if d.numbers is None:
        raise SpecError("numbers in matrix form need values (inputs, params and targets)", key="values")
    small = len(d.spec.parameters) * max(1, d.network.examples) <= EXACT_SIZE_LIMIT
    if exact is not False and (exact or small):
        ex = exact_numbers(d)
        rational = all(v is not None and v.is_Rational for v in ex.forward.values())
        if exact or rational:
            values = {sp.Symbol(k): v if v is not None else ex.decimal[k] for k, v in ex.forward.items()}
            after = None
            if ex.forward_after is not None and not d.is_variant:
                after = ex.forward_after.get(d.loss_name)
            return values, True, after
    values = {sp.Symbol(k): double(v) for k, v in d.numbers.forward.items()}
    values.update(d.network.leaf_values(d.spec.params_values))  # given values stay as written
    return values, False, None


def double(v: float) -> sp.Expr:
    """``sp.Float(v)`` for a Python float, without its argument parsing (half the time).

    >>> [double(v) == sp.Float(v) for v in (0.1, 0.0, -2.5e-310)], double(float("inf"))
    ([True, True, True], oo)
    """
    return sp.Float._new(from_float(v, 53, "n"), 53, zero=False)


class _Substitute(Exception):
    """An entry :func:`_float_value` does not reproduce bit for bit: substitute with SymPy."""


def _float_value(expr: sp.Expr, values: Mapping[sp.Symbol, sp.Expr]) -> Fraction | float:
    """``expr.xreplace(values)`` of sums, products and integer powers of Floats and Rationals,
    computed as SymPy computes it, operand by operand in the order of ``args``: exact while every
    operand is rational, then one float64 rounding per operation (SymPy's 53-bit Floats round to
    nearest like float64; unlike float64 they do not overflow, underflow or keep −0, so any zero,
    non-finite or subnormal result is left to SymPy, as is anything else).

    >>> x, y = sp.symbols("x y")
    >>> e, at = sp.Rational(1, 3) * x * y + 2, {x: sp.Float(0.1), y: sp.Rational(7, 20)}
    >>> _float_value(e, at), float(e.xreplace(at))
    (2.0116666666666667, 2.0116666666666667)
    """
    if expr.is_Symbol:
        expr = values[expr]
    if expr.is_Float:
        return float(expr)
    if expr.is_Rational:
        return Fraction(expr.p, expr.q)
    if expr.is_Add or expr.is_Mul:
        add = expr.is_Add
        total: Fraction | float = Fraction(0 if add else 1)
        for arg in expr.args:
            v = _float_value(arg, values)
            if isinstance(total, Fraction) and isinstance(v, Fraction):
                total = total + v if add else total * v
                continue
            total = float(total) + float(v) if add else float(total) * float(v)
            if not (total != 0 and math.isfinite(total) and abs(total) >= sys.float_info.min):
                raise _Substitute
        return total
    if expr.is_Pow and expr.exp.is_Integer and expr.exp in (-1, 2):
        base = _float_value(expr.base, values)
        if isinstance(base, Fraction):
            return base ** int(expr.exp)
        total = base * base if expr.exp == 2 else 1.0 / base
        if not (total != 0 and math.isfinite(total) and abs(total) >= sys.float_info.min):
            raise _Substitute
        return total
    raise _Substitute


def _entry(expr: sp.Expr, values: Mapping[sp.Symbol, sp.Expr]) -> sp.Expr:
    """``expr.xreplace(values)``, by :func:`_float_value` where that gives the same number, else
    by :func:`~symbackprop.exact.decimal_value` (SymPy's own number arithmetic, the same bits)."""
    try:
        v = _float_value(expr, values)
    except (_Substitute, KeyError, ZeroDivisionError):
        return decimal_value(expr, values)
    return double(v) if isinstance(v, float) else sp.Rational(v.numerator, v.denominator)


def _at(m: Matrix | None, values: Mapping[sp.Symbol, sp.Expr]) -> Matrix | None:
    return None if m is None else m.applyfunc(lambda e: _entry(e, values))


def layer_numbers(view: LayerView, *, exact: bool | None = None) -> LayerNumbers:
    """Evaluate ``view`` at the spec's values (see the module docstring)."""
    d = view.derivation
    values, is_exact, exact_loss_after = _values(view, exact)
    examples = []
    env = dict(values)
    for ex in view.examples:
        deltas: list[Matrix] = [None] * len(view.layers)  # type: ignore[list-item]
        back: list[Matrix | None] = [None] * len(view.layers)
        for i in range(len(view.layers) - 1, -1, -1):
            if i < len(view.layers) - 1:
                back[i] = _at(ex.backs[i], env)
            deltas[i] = _at(ex.delta_definitions[i], env)
            env.update(zip(ex.deltas[i], deltas[i]))
        # each entry one product δᵢ·hⱼ: multiplying the numbers is the same as substituting them
        outer = tuple(_outer(deltas[i], _at(ex.layer_input(layer.number), env)) for i, layer in enumerate(view.layers))
        examples.append(ExampleNumbers(
            example=ex.example, inputs=_at(ex.inputs, env), targets=_at(ex.targets, env),
            nets=tuple(_at(m, env) for m in ex.nets), outs=tuple(_at(m, env) for m in ex.outs),
            loss_gradient=_at(ex.loss_gradient, env),
            activation_jacobians=tuple(_at(m, env) for m in ex.activation_jacobians),
            back=tuple(back), deltas=tuple(deltas), outer=outer,
            neuron_outs=tuple(_at(m, env) for m in ex.neuron_outs)))
    weights = tuple(_at(layer.weights, env) for layer in view.layers)
    biases = tuple(_at(layer.biases, env) for layer in view.layers)
    weight_grads = tuple(_at(m, env) for m in view.weight_gradients)
    bias_grads = tuple(_at(m, env) for m in view.bias_gradients)
    loss = env[sp.Symbol(d.loss_name)]
    updated_w = updated_b = loss_after = None
    if d.spec.learning_rate is not None:
        new = _updated_parameters(view, weight_grads, bias_grads, env, is_exact)
        updated_w = tuple(_at(layer.weights, new) for layer in view.layers)
        updated_b = tuple(_at(layer.biases, new) for layer in view.layers)
        loss_after = exact_loss_after if exact_loss_after is not None else sp.Float(_loss_after(view, new))
    return LayerNumbers(view=view, exact=is_exact, weights=weights, biases=biases, examples=tuple(examples),
                        loss=loss, weight_gradients=weight_grads, bias_gradients=bias_grads,
                        updated_weights=updated_w, updated_biases=updated_b, loss_after=loss_after)


def _updated_parameters(view: LayerView, weight_grads, bias_grads, env, exact: bool) -> dict[sp.Symbol, sp.Expr]:
    """``w − η·∂J/∂w`` for every parameter differentiated (``wrt``), with ``∂J/∂w`` the sum of the
    entries it fills; the others keep their value (as in the scalar derivation)."""
    d = view.derivation
    eta = d.spec.learning_rate if exact else sp.Float(d.spec.learning_rate)
    totals: dict[str, list[sp.Expr]] = {}
    for name, kind, number, r, c in view.entries():
        totals.setdefault(name, []).append((weight_grads if kind == "W" else bias_grads)[number - 1][r, c])
    new = {}
    for name, terms in totals.items():
        symbol = sp.Symbol(name)
        new[symbol] = _step(env[symbol], eta, terms) if name in d.gradients else env[symbol]
    return new


def _double(x: sp.Expr) -> float | None:
    """``x`` as a float when it is a 53-bit Float or a Rational whose value is a normal double
    (``x`` converts to it exactly, or rounded to nearest as SymPy rounds a Rational), else None."""
    if x.is_Float:
        v = to_float(x._mpf_) if x._prec == 53 else 0.0
    elif x.is_Rational:
        v = x.p / x.q
    else:
        return None
    return v if math.isfinite(v) and abs(v) >= sys.float_info.min else None


def _times(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """``a·b`` of two SymPy numbers as SymPy computes it: in float64 when one is a 53-bit Float,
    both are normal doubles and so is the product (see :func:`_double`); else by SymPy.

    >>> _times(sp.Float(0.1), sp.Rational(1, 3)), sp.Float(0.1) * sp.Rational(1, 3)
    (0.0333333333333333, 0.0333333333333333)
    """
    if a.is_Float or b.is_Float:
        x, y = _double(a), _double(b)
        if x is not None and y is not None:
            product = x * y
            if math.isfinite(product) and abs(product) >= sys.float_info.min:
                return double(product)
    return a * b


def _outer(column: Matrix, row: Matrix) -> Matrix:
    """``column · rowᵀ`` of two number vectors, entry by entry as the matrix product computes it."""
    return Matrix([[_times(a, b) for b in row] for a in column])


def _step(value: sp.Expr, eta: sp.Expr, terms: list[sp.Expr]) -> sp.Expr:
    """``value − eta·Σ terms`` as SymPy computes it: in float64 when ``eta`` and the sum are
    53-bit Floats, ``value`` is one or a Rational, and each of them, the product and the result
    is a normal double (each SymPy operation then rounds as float64 does, a Rational first to
    the nearest double); else by SymPy.

    >>> _step(sp.Rational(1, 3), sp.Float(0.5), [sp.Float(0.1), sp.Float(0.2)])
    0.183333333333333
    """
    total = sp.Add(*terms)
    if eta.is_Float and total.is_Float:
        numbers = _double(value), _double(eta), _double(total)
        if None not in numbers:
            product = numbers[1] * numbers[2]
            step = numbers[0] - product
            if all(math.isfinite(x) and abs(x) >= sys.float_info.min for x in (product, step)):
                return double(step)
    return value - eta * total


def _loss_after(view: LayerView, new: Mapping[sp.Symbol, sp.Expr]) -> float:
    """The loss after the step (a forward pass in float64)."""
    network = view.derivation.network
    params = {p: float(v) for p, v in view.derivation.spec.params_values.items()}
    params.update({str(s): float(v) for s, v in new.items()})
    loss = sp.Symbol(network.root)
    return evaluate(network.definitions(), network.leaf_values(params, float), [loss])[loss]

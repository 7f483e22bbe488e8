"""symbackprop.straightline: the derivation's own numbers (straight-line program, stable forms) and the
doctests of the numeric modules."""
from __future__ import annotations

import doctest
import importlib

import pytest
import sympy as sp

from symbackprop import derive, spec_from_mapping
from symbackprop.functions import sigmoid, softplus
from symbackprop.straightline import compile_program, dependency_order, evaluate, stable_forms


@pytest.mark.parametrize("name", ["symbackprop.straightline", "symbackprop.codegen", "symbackprop.exact",
                                  "symbackprop.training"])
def test_doctests(name, monkeypatch):
    from conftest import ROOT

    monkeypatch.chdir(ROOT)
    failures, _ = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert failures == 0


def test_max_and_min_in_node_expressions_evaluate():
    """SymPy prints Max/Min with functools.reduce: the generated program imports functools."""
    d = derive(spec_from_mapping({"name": "m", "inputs": ["L", "M"], "nodes": {"S": "max(L, M)*L", "Q": "min(S, 3) + L"},
                                  "objective": "Q", "wrt": ["L"], "values": {"inputs": {"L": 1.5, "M": 0.5}}}))
    assert d.numbers.forward["S"] == 2.25 and d.numbers.forward["Q"] == 3.75    # S = 1.5·1.5, Q = S + L
    assert d.numbers.gradients["L"] == 4.0   # dQ/dL = dS/dL + 1 = (L + max(L, M)) + 1 while S < 3


def test_stable_forms_fuse_logs_of_sigmoid_and_softmax():
    a, b, c, s, p, t = sp.symbols("a b c s p t")
    total = sp.exp(a) + sp.exp(b) + sp.exp(c)
    defs, fix = stable_forms([(s, sigmoid(a)), (p, sp.exp(b) / total)])
    names = [str(x) for x, _ in defs]
    assert names == ["s", "_max0", "_sum0", "p"]
    m, z = sp.Symbol("_max0"), sp.Symbol("_sum0")
    assert dict(defs)[p] == sp.exp(b - m) / z
    assert fix(sp.log(s) + sp.log(1 - s) + sp.log(p)) == -softplus(-a) - softplus(a) + b - m - sp.log(z)
    assert fix(t * sp.log(a)) == t * sp.log(a)           # other logs are left alone


def test_evaluate_is_finite_where_the_plain_formula_is_not():
    out, net, t, loss = sp.symbols("out net t E")
    definitions = [(out, sigmoid(net)), (loss, -t * sp.log(out) - (1 - t) * sp.log(1 - out))]
    values = evaluate(definitions, {net: 1000.0, t: 1.0}, [out, loss])
    assert values == {out: 1.0, loss: 0.0}
    values = evaluate(definitions, {net: -1000.0, t: 1.0}, [loss])
    assert values[loss] == 1000.0


def test_compile_program_and_dependency_order_keep_their_contract():
    x, y, z = sp.symbols("x y z")
    assert dependency_order([(z, 3 * y), (y, x ** 2)]) == [(y, x ** 2), (z, 3 * y)]
    program = compile_program([(y, x ** 2), (z, 3 * y)], leaves=[x], outputs=[z, y])
    assert [float(v) for v in program.function([2.0])] == [12.0, 4.0]

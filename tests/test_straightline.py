"""symbackprop.straightline: the derivation's own numbers (straight-line program, stable forms) and the
doctests of the numeric modules."""
from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest
import sympy as sp

from symbackprop import derive, spec_from_mapping
from symbackprop.errors import SpecError
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


def _printed_lines(program):
    return [line for line in program.source.splitlines() if " = " in line and "leaves[" not in line]


def test_lines_written_directly_are_what_the_code_printer_writes():
    """Symbols, products of symbols and sums of those are written without SymPy's printer; every
    such line is the printer's own line for the renamed expression (so the float operations, and
    every number shown, are unchanged)."""
    import random

    from symbackprop.functions import numpy_printer
    from symbackprop.straightline import _direct_code

    rng = random.Random(3)
    pool = sp.symbols("a b c d e w_1 w_10 w_2 out_h1 delta_y2 x1__2 x1__10")
    printer = numpy_printer()
    written = 0
    for _ in range(400):
        names = {s: f"v{rng.randint(0, 120)}" for s in pool}
        if len(set(names.values())) < len(pool):
            continue
        terms = [sp.Mul(*rng.sample(pool, rng.randint(1, 3))) for _ in range(rng.randint(1, 7))]
        expr = sp.Add(*terms) if rng.random() < 0.7 else terms[0]
        direct = _direct_code(expr, names.__getitem__)
        plain = all(t.is_Symbol or (t.is_Mul and all(f.is_Symbol for f in t.args)) for t in sp.Add.make_args(expr))
        assert (direct is not None) == plain
        if plain:
            written += 1
            assert direct == printer.doprint(expr.xreplace({s: sp.Symbol(v) for s, v in names.items()}))
    assert written > 200


def test_definitions_out_of_order_are_sorted_and_unknown_symbols_named():
    x, y, z, u = sp.symbols("x y z u")
    program = compile_program([(z, y * x + x), (y, x * x)], leaves=[x], outputs=[z])
    assert float(program.function([3.0])[0]) == 30.0
    with pytest.raises(Exception, match="no value for u"):
        compile_program([(y, x * u)], leaves=[x], outputs=[y])


def _softplus(v):
    """log(1 + eᵛ) as NumPy's logaddexp(0, v) computes it, step by step with ``math``."""
    import math
    return v + math.log1p(math.exp(-v)) if v > 0 else math.log1p(math.exp(v))


def test_transcendental_functions_are_the_c_library_s_so_every_machine_prints_the_same_numbers():
    """NumPy's vectorised exp/log/tanh loops depend on the CPU (AVX-512 rounds some results
    differently; its tanh differs from the C library's on about a fifth of these points even here),
    so the program computes them with ``math``: the expected bits come from ``math`` itself."""
    import math
    import random

    x = sp.Symbol("x")
    outs = sp.symbols("o0:5")
    exprs = [sp.tanh(x), sp.exp(x), sp.log(x ** 2 + 1), sigmoid(x), softplus(x)]
    program = compile_program(list(zip(outs, exprs)), leaves=[x], outputs=list(outs))
    rng = random.Random(7)
    points = [rng.uniform(-4, 4) for _ in range(2000)]
    for v in points:
        got = [float(r) for r in program.function([v])]
        assert got == [math.tanh(v), math.exp(v), math.log(v * v + 1), math.exp(-_softplus(-v)), _softplus(v)], v
    # the special values NumPy gives where math refuses
    with np.errstate(all="ignore"):
        assert [float(r) for r in program.function([1000.0])][1] == math.inf
        assert math.isnan(float(compile_program([(outs[0], sp.log(x))], [x], [outs[0]]).function([-1.0])[0]))
    assert evaluate([(outs[0], sp.log(x))], {x: 2.0}, [outs[0]])[outs[0]] == math.log(2.0)
    with pytest.raises(SpecError, match="log of 0"):
        evaluate([(outs[0], sp.log(x))], {x: 0.0}, [outs[0]])

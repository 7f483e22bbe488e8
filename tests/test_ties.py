"""Kinks and ties: one subgradient everywhere (docs/numbers.md, "Kinks and ties"), and the warnings.

Expected numbers come from the functions themselves, by hand: plain-Python ``max``/``min``,
one-sided differences along the tie, PyTorch where it is installed — never from symbackprop.
"""
from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys

import pytest
import sympy as sp

from symbackprop import derive
from symbackprop.codegen import numeric_function
from symbackprop.exact import exact_numbers
from symbackprop.exams.variants import degenerate, draw_variants
from symbackprop.functions import maximum, minimum
from symbackprop.spec import spec_from_mapping

NESTINGS = ["max(max(c1, c2), c3)", "max(c1, max(c2, c3))", "max(c1, c2, c3)"]
TIES = [(0.5, 0.5, 0.5), (0.5, 0.5, 0.2), (0.5, 0.2, 0.5), (0.2, 0.5, 0.5), (0.2, 0.5, 0.2)]


def nodes_spec(nodes: dict, params: dict, inputs: dict | None = None, objective: str = "E", **extra) -> dict:
    return {"name": "t", "inputs": list(inputs or {}), "params": list(params), "nodes": nodes,
            "objective": objective, "values": {"inputs": inputs or {}, "params": params}, **extra}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symbackprop", *args], capture_output=True, text=True)


def first_wins(values, pick=max) -> list[int]:
    """The subgradient by hand: 1 for the first argument attaining the extremum."""
    best = pick(values)
    first = values.index(best)
    return [1 if i == first else 0 for i in range(len(values))]


# --- the issue's example: max(max(c1, c2), c3) at a 3-way tie --------------------------------

def issue_spec(**extra) -> dict:
    # c1 = k1, c2 = k1*x, c3 = k1*x**2 tie at x = 1: E = 0.7*k1*max(1, x, x**2)
    return nodes_spec({"c1": "k1", "c2": "k1*x", "c3": "k1*x**2", "m": "max(max(c1, c2), c3)", "E": "0.7*m"},
                      {"k1": 0.5}, {"x": 1}, wrt=["k1", "x"], **extra)


def issue_energy(k1: float, x: float) -> float:
    return 0.7 * max(max(k1, k1 * x), k1 * x ** 2)


def test_the_issue_example_gives_the_derivative_along_the_tie():
    d = derive(spec_from_mapping(issue_spec()))
    # E(k1) = 0.7*k1 while x = 1: every one-sided difference in k1 is 0.7 (SymPy's Max gave 1.05)
    for h in (1e-6, -1e-6):
        assert (issue_energy(0.5 + h, 1) - issue_energy(0.5, 1)) / h == pytest.approx(0.7, rel=1e-9)
    assert d.numbers.gradients["k1"] == pytest.approx(0.7, rel=1e-12)
    # in x there is no derivative (right 0.7*2*k1*x = 0.7, left 0): the tie goes to c1 = k1, so 0
    right = (issue_energy(0.5, 1 + 1e-7) - issue_energy(0.5, 1)) / 1e-7
    left = (issue_energy(0.5, 1) - issue_energy(0.5, 1 - 1e-7)) / 1e-7
    assert (right, left) == (pytest.approx(0.7, rel=1e-6), pytest.approx(0.0, abs=1e-12))
    assert d.numbers.gradients["x"] == 0.0
    assert [d.numbers.deltas[c] for c in ("c1", "c2", "c3")] == [pytest.approx(0.7), 0.0, 0.0]


def test_the_issue_example_in_exact_arithmetic_and_generated_code():
    d = derive(spec_from_mapping(issue_spec()))
    assert exact_numbers(d).gradients["k1"] == sp.Rational(7, 10)
    loss, grads = numeric_function(d)({"x": 1.0}, {"k1": 0.5}, {})
    assert grads["k1"] == pytest.approx(0.7, rel=1e-12) and float(grads["x"]) == 0.0
    assert loss == pytest.approx(0.35)


@pytest.mark.parametrize("text", NESTINGS + ["nested nodes"])
@pytest.mark.parametrize("values", TIES)
@pytest.mark.parametrize("pick", ["max", "min"])
def test_every_nesting_gives_the_tie_to_the_first_argument(text, values, pick):
    if pick == "min":
        values = tuple(1 - v for v in values)   # the same ties, at the minimum
    if text == "nested nodes":
        nodes = {"m1": f"{pick}(c1, c2)", "E": f"{pick}(m1, c3)"}
    else:
        nodes = {"E": text.replace("max", pick)}
    d = derive(spec_from_mapping(nodes_spec(nodes, dict(zip(("c1", "c2", "c3"), values)))))
    weights = [d.numbers.gradients[c] for c in ("c1", "c2", "c3")]
    assert weights == first_wins(list(values), max if pick == "max" else min)
    assert sum(weights) == 1
    _, grads = numeric_function(d)({}, dict(zip(("c1", "c2", "c3"), values)), {})
    assert [float(grads[c]) for c in ("c1", "c2", "c3")] == weights
    assert exact_numbers(d).gradients == dict(zip(("c1", "c2", "c3"), map(sp.Integer, weights)))


@pytest.mark.parametrize("values", TIES)
def test_torch_max_over_a_dimension_gives_the_same_weights(values):
    torch = pytest.importorskip("torch")
    cs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    torch.max(torch.stack(cs), dim=0).values.backward()
    d = derive(spec_from_mapping(nodes_spec({"E": "max(c1, c2, c3)"}, dict(zip(("c1", "c2", "c3"), values)))))
    assert [c.grad.item() for c in cs] == [d.numbers.gradients[c] for c in ("c1", "c2", "c3")]


# --- relu, max(x, 0), abs, leaky ReLU at 0 -------------------------------------------------------

@pytest.mark.parametrize("activation", ["relu", "max(x, 0)", "max(0, x)", "leaky_relu", "abs(x)", "min(x, 0)"])
def test_activations_at_the_kink(activation):
    spec = {"name": "t", "inputs": ["x1"], "outputs": ["y"], "loss": "half_sse",
            "neurons": {"h": {"from": {"x1": "w1"}, "activation": activation, "bias": "b"},
                        "y": {"from": {"h": "w2"}, "activation": "identity"}},
            "values": {"inputs": {"x1": 1}, "params": {"w1": 0.5, "b": -0.5, "w2": 2}, "targets": {"y": 1}}}
    if activation == "leaky_relu":
        spec["neurons"]["h"]["alpha"] = 0.25
    d = derive(spec_from_mapping(spec))
    # net_h = 0, out_h = 0, y = 0, δ_y = -1; ∂E/∂w1 = δ_y·w2·f'(0)·x1 with f'(0) by the convention
    slope = {"leaky_relu": 0.25}.get(activation, 0.0)
    assert d.numbers.gradients["w1"] == pytest.approx(-2 * slope, abs=1e-15)
    _, grads = numeric_function(d)({"x1": 1.0}, {"w1": 0.5, "b": -0.5, "w2": 2.0}, {"y": 1.0})
    assert float(grads["w1"]) == pytest.approx(-2 * slope, abs=1e-15)
    kind = {"relu": "relu", "leaky_relu": "leaky_relu", "abs(x)": "abs"}.get(activation, activation[:3])
    assert [(w["node"], w["kind"]) for w in d.warnings] == [("out_h", kind)]


def test_torch_agrees_at_relu_leaky_relu_and_abs_kinks():
    torch = pytest.importorskip("torch")

    def grad(f):
        x = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
        f(x).backward()
        return x.grad.item()

    assert grad(torch.relu) == 0.0
    assert grad(lambda x: torch.nn.functional.leaky_relu(x, 0.25)) == 0.25
    assert grad(torch.abs) == 0.0


# --- away from ties: finite differences and SymPy's own diff --------------------------------

AWAY = {"a": 0.3, "b": -0.7, "c": 0.9, "d": 0.45}


def away_energy(a, b, c, d):
    return max(a, 2 * b, c ** 2, 0.1) * min(a, b - c, d, 0.3) + max(a * d, c) ** 2 - min(b, d)


def test_n_ary_max_and_min_away_from_ties_match_finite_differences_and_sympy():
    text = "max(a, 2*b, c**2, 0.1)*min(a, b - c, d, 0.3) + max(a*d, c)**2 - min(b, d)"
    d = derive(spec_from_mapping(nodes_spec({"E": text}, AWAY)))
    assert d.warnings == []
    symbols = sp.symbols("a b c d")
    a, b, c, dd = symbols
    sympy_form = (sp.Max(a, 2 * b, c ** 2, sp.Rational(1, 10)) * sp.Min(a, b - c, dd, sp.Rational(3, 10))
                  + sp.Max(a * dd, c) ** 2 - sp.Min(b, dd))
    point = {s: sp.Rational(str(AWAY[str(s)])) for s in symbols}
    for name, s in zip(AWAY, symbols):
        h = 1e-6
        up, down = dict(AWAY), dict(AWAY)
        up[name] += h
        down[name] -= h
        fd = (away_energy(**up) - away_energy(**down)) / (2 * h)
        assert d.numbers.gradients[name] == pytest.approx(fd, rel=1e-7, abs=1e-9)
        assert d.numbers.gradients[name] == pytest.approx(float(sp.diff(sympy_form, s).subs(point)), rel=1e-12)


def test_maximum_and_minimum_are_flat_ordered_and_numbers_first():
    x, y = sp.symbols("x y")
    assert maximum(maximum(x, y), 0).args == (0, x, y)
    assert minimum(y, minimum(x, 3), 1).args == (1, y, x)
    assert maximum(2, 3) == 3 and minimum(x, x) == x
    assert str(maximum(y, x)) == "Max(y, x)" and sp.parse_expr(str(maximum(y, x))) == sp.Max(x, y)


# --- warnings ------------------------------------------------------------------------------------

def test_warnings_name_the_node_the_tie_and_the_subgradient():
    d = derive(spec_from_mapping(issue_spec()))
    assert d.warnings == [{"node": "m", "kind": "max", "message": (
        "node m: max at a tie (c1 = c2 = c3 = 0.5): the derivative does not exist; the one-sided "
        "values of the derivatives with respect to c1, c2, c3 are 1 (raising the argument) and 0 "
        "(lowering it); the gradient uses the subgradient that gives the tie to the first argument, c1")}]
    assert d.to_dict()["warnings"] == d.warnings


@pytest.mark.parametrize("c2, warned", [(0.5, True), (0.5 + 1e-13, True), (0.5 - 4e-13, True),
                                        (0.5 + 1e-9, False), (0.2, False)])
def test_warnings_within_1e_12_relative_only(c2, warned):
    d = derive(spec_from_mapping(nodes_spec({"E": "min(c1, c2) + relu(c1 - 0.2)"}, {"c1": 0.5, "c2": c2})))
    assert [w["kind"] for w in d.warnings] == (["min"] if warned else [])
    if warned:
        assert ("min at a tie" if c2 == 0.5 else "min within 1e-12 of a tie") in d.warnings[0]["message"]


@pytest.mark.parametrize("value, warned", [(0.0, True), (1e-13, True), (-1e-13, True), (1e-11, False)])
def test_a_kink_at_zero_is_judged_absolutely(value, warned):
    d = derive(spec_from_mapping(nodes_spec({"E": "abs(a) + relu(a)"}, {"a": value})))
    assert [w["kind"] for w in d.warnings] == (["abs", "relu"] if warned else [])


def test_no_values_no_warnings_key():
    raw = issue_spec()
    del raw["values"]
    d = derive(spec_from_mapping(raw))
    assert d.warnings == [] and "warnings" not in d.to_dict()


def test_warnings_per_example_with_data():
    raw = {"name": "t", "inputs": ["x"], "outputs": ["y"], "loss": "half_sse",
           "neurons": {"y": {"from": {"x": "w"}, "activation": "relu"}},
           "values": {"params": {"w": 1}},
           "data": [{"inputs": {"x": 1}, "targets": {"y": 0}}, {"inputs": {"x": 0}, "targets": {"y": 1}}]}
    d = derive(spec_from_mapping(raw))
    assert [w["node"] for w in d.warnings] == ["out_y__2"]


def test_the_command_writes_warnings_in_json_and_text(tmp_path):
    spec = tmp_path / "tie.json"
    spec.write_text(json.dumps(issue_spec()))
    result = run("derive", str(spec), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["warnings"][0]["node"] == "m"
    text = run("derive", str(spec)).stdout
    assert "\nWarnings\n  node m: max at a tie (c1 = c2 = c3 = 0.5)" in text
    away = tmp_path / "away.json"
    away.write_text(json.dumps(nodes_spec({"E": "max(c1, c2)"}, {"c1": 0.1, "c2": 0.2})))
    out = run("derive", str(away), "--format", "json")
    assert json.loads(out.stdout)["warnings"] == [] and "Warnings" not in run("derive", str(away)).stdout


def test_a_max_of_one_argument_is_one_line_and_exit_2(tmp_path):
    spec = tmp_path / "bad.json"
    spec.write_text(json.dumps(nodes_spec({"E": "max(c1)"}, {"c1": 0.1})))
    result = run("derive", str(spec))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "max() takes at least 2 arguments (got 1)" in result.stderr


# --- exam variants --------------------------------------------------------------------------------

def test_exam_variants_redraw_ties():
    raw = nodes_spec({"E": "max(c1, c2)*c3"}, {"c1": 0, "c2": 1, "c3": 1},
                     randomize={"params": {"low": 0, "high": 1, "step": 1},
                                "allow": ["zero_value", "zero_gradient"]})
    tie = derive(spec_from_mapping(nodes_spec({"E": "max(c1, c2)*c3"}, {"c1": 1, "c2": 1, "c3": 1})))
    assert "max at a tie" in degenerate(tie) and "tie" not in degenerate(tie, allow_kink=True)   # but c2's 0
    variants = draw_variants(spec_from_mapping(raw), 2, seed=3)
    for v in variants:
        assert v.derivation.warnings == [] and v.drawn["c1"] != v.drawn["c2"]
    assert sorted((v.drawn["c1"], v.drawn["c2"]) for v in variants) == [(0, 1), (1, 0)]


def test_every_tie_of_four_arguments_sums_to_one():
    for values in itertools.product((0.0, 1.0), repeat=4):
        params = dict(zip(("c1", "c2", "c3", "c4"), values))
        d = derive(spec_from_mapping(nodes_spec({"E": "max(min(c1, c2), max(c3, c4), c2)"}, params)))
        assert math.fsum(d.numbers.gradients.values()) == 1.0, values


# --- the checker's evaluator and the layer view follow the same convention ------------------------

def test_the_checkers_evaluator_gives_the_tie_to_the_first_argument():
    import mpmath

    from symbackprop.check.evaluate import MP, compile_expr

    a, b, c = sp.symbols("a b c")
    point = {a: 0.5, b: 0.5, c: 0.5}
    for backend_point, backend in ((point, None), ({s: mpmath.mpf(v) for s, v in point.items()}, MP)):
        weights = [compile_expr(sp.diff(maximum(a, b, c), s)).evaluate(backend_point, *([backend] if backend else []))
                   for s in (a, b, c)]
        assert weights == [1, 0, 0]


@pytest.mark.parametrize("hidden", ["relu", "max(x, 0)", "max(0, x)"])
def test_we10_layer_view_with_max_as_the_hidden_activation(hidden):
    from symbackprop.layers import layer_numbers, layer_view

    raw = {"name": "we10", "layers": [2, 2, 1], "activations": [hidden, "identity"], "loss": "half_sse",
           "values": {"inputs": {"x": [1, 0]}, "params": {"W1": [[1, 0], [0, 1]], "W2": [[1, 2]]},
                      "targets": {"y": [2]}}, "learning_rate": 1}
    d = derive(spec_from_mapping(raw))
    n = layer_numbers(layer_view(d))
    # the lecture's WE-10 figures: dJ/dW1 = [[-1, 0], [0, 0]] (ReLU'(0) = 0 for h2), dJ/dw2 = (-1, 0)
    assert n.weight_gradients[0].tolist() == [[-1, 0], [0, 0]] and n.weight_gradients[1].tolist() == [[-1, 0]]
    assert [w["node"] for w in d.warnings] == ["out_h1_2"]

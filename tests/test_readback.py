"""The tool's own output reads back: every δ and gradient symbackprop prints — as text (the
report, the JSON's ``expression``/``expanded``/``simplified``) and as LaTeX (``latex``, and the
LaTeX of the expanded form the derivation document shows) — parses with the checker's own
parsers into an expression equal to the printed one, and ``check`` marks it correct.

Equality is decided independently of the checker: the same tree, or a zero difference once
expanded, or the same value to 30 digits at random points (SymPy's own arithmetic).
A printed form longer than the answer limit (``max_length``) is refused with that limit named.
"""
from __future__ import annotations

import functools
import random

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLE_SPECS, derivation, ids
from symbackprop import derive, spec_from_mapping
from symbackprop.check import AnswerInput, CheckContext, parse_answer, run_check
from symbackprop.errors import SpecError
from symbackprop.expressions import LIMITS
from symbackprop.latex import to_latex

# the lecture's variant prints δs through the updated weights (w_TF__new): not a gradient, not an answer
SPECS = [p for p in EXAMPLE_SPECS if not p.stem.endswith("-updated")]
SLOW = {"we02-paths-3-3-3-3-2", "we13-relu-3layer"}   # seconds each: their expanded forms are long


def printed_forms(d) -> list[tuple[str, str, str, sp.Expr]]:
    """(wrt, syntax, text, expression) of every δ and gradient the tool prints."""
    data = d.to_dict()
    forms = []
    for key, delta in d.deltas.items():
        entry, wrt = data["deltas"][key], str(delta.symbol)
        forms += [(wrt, "plain", entry["expression"], delta.expression),
                  (wrt, "latex", entry["latex"], delta.expression)]
        if entry.get("expanded") is not None:
            expanded = d.expanded(delta.symbol)
            forms += [(wrt, "plain", entry["expanded"], expanded), (wrt, "latex", to_latex(expanded), expanded)]
        if "simplified" in entry:
            forms.append((wrt, "plain", entry["simplified"], delta.simplified))
    for wrt, gradient in d.gradients.items():
        entry = data["gradients"][wrt]
        forms += [(wrt, "plain", entry["expression"], gradient.expression),
                  (wrt, "latex", entry["latex"], gradient.expression),
                  (wrt, "latex", to_latex(gradient.expression, mul_symbol="dot"), gradient.expression)]
        if entry.get("expanded") is not None:
            expanded = d.expanded(gradient.expression)
            forms += [(wrt, "plain", entry["expanded"], expanded), (wrt, "latex", to_latex(expanded), expanded)]
    return forms


def equal(a: sp.Expr, b: sp.Expr) -> bool:
    """``a == b``: the same tree, a difference that expands to 0, or equal at 3 random points."""
    if a == b:
        return True
    difference = a - b
    if sp.expand(difference) == 0:
        return True
    rng = random.Random(14)
    symbols = sorted(difference.free_symbols, key=str)
    for _ in range(3):
        values = {s: sp.Rational(rng.randint(-150, 150), 100) or sp.Rational(1, 7) for s in symbols}
        x, y = (sp.N(e.subs(values), 30) for e in (a, b))
        if not (x == y or abs(x - y) <= sp.Float(10) ** -20 * max(1, abs(x), abs(y))):
            return False
    return True


def assert_reads_back(d) -> int:
    ctx = CheckContext(d)
    count = 0
    for wrt, syntax, text, expr in printed_forms(d):
        if len(text) > LIMITS["max_length"]:
            with pytest.raises(SpecError, match="answer too long"):
                parse_answer(ctx, text, syntax=syntax)
            continue
        got, used = parse_answer(ctx, text, syntax=syntax)
        assert used == syntax
        assert equal(got, expr), f"{wrt} ({syntax}): {text!r} read back as {got}"
        count += 1
    return count


@pytest.mark.parametrize("path", [pytest.param(p, marks=pytest.mark.slow) if p.stem in SLOW else p for p in SPECS],
                         ids=ids(SPECS))
def test_every_printed_form_of_every_example_reads_back(path):
    assert assert_reads_back(derivation(str(path))) > 0


# --------------------------------------------------------------------------- functions the examples lack

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "softplus", "identity", "abs(x)", "max(x, 0)",
               "min(x, 1) + x", "max(x, -x/2) + min(x, 0)", "x**2"]


def spec(hidden: str, output: str = "sigmoid", *, loss: str = "half_sse") -> dict:
    return {"name": "t", "inputs": ["x1", "x2"], "outputs": ["y"], "loss": loss,
            "neurons": {"h": {"from": {"x1": "w1", "x2": "w2"}, "activation": hidden, "bias": "b"},
                        "y": {"from": {"h": "w3", "x1": "w4"}, "activation": output}},
            "values": {"params": {"w1": 0.3, "w2": -0.2, "w3": 0.5, "w4": 0.7, "b": 0.1},
                       "inputs": {"x1": 1, "x2": 2}, "targets": {"y": 1}}}


@functools.cache
def network(hidden: str):
    return derive(spec_from_mapping(spec(hidden)))


@pytest.mark.parametrize("hidden", ACTIVATIONS)
def test_printed_max_min_softplus_leaky_relu_piecewise_and_theta_read_back(hidden):
    assert assert_reads_back(network(hidden)) > 0


@pytest.mark.parametrize("hidden, printed", [
    ("max(x, 0)", (r"\mathbf{1}\!\left[", "Heaviside(", r"\max\left(", "Max(")),
    ("leaky_relu", (r"\begin{cases}", "Piecewise((", r"\operatorname{LeakyReLU}_{\frac{1}{100}}", "leaky_relu(")),
    ("softplus", (r"\operatorname{softplus}", "softplus(")),
    ("min(x, 1) + x", (r"\min\left(", "Min(")),
    ("abs(x)", (r"\operatorname{sign}", "sign(")),
])
def test_the_forms_that_were_refused_are_printed_here(hidden, printed):
    """The families above do print the forms the answer parser used to refuse (so the test reads them)."""
    everything = " ".join(text for _, _, text, _ in printed_forms(network(hidden)))
    for piece in printed:
        assert piece in everything, piece


# activations the checker evaluates (abs(x)'s sign is left to the evaluator's own fix)
CHECKED = [a for a in ACTIVATIONS if a != "abs(x)"]


@pytest.mark.parametrize("hidden", CHECKED)
def test_check_marks_every_printed_gradient_and_delta_correct(hidden):
    d = network(hidden)
    answers = [AnswerInput(wrt, text, syntax, f"{wrt} ({syntax})") for wrt, syntax, text, _ in printed_forms(d)
               if len(text) <= LIMITS["max_length"]]
    report = run_check(d, answers=answers)
    assert [(a.where, a.verdict) for a in report.answers] == [(a.where, "correct") for a in answers]
    assert report.ok and len(answers) > 10


def test_check_marks_every_printed_form_of_we5_correct():
    d = derivation(str(next(p for p in SPECS if p.stem == "we05-221-sigmoid")))
    answers = [AnswerInput(wrt, text, syntax) for wrt, syntax, text, _ in printed_forms(d)]
    report = run_check(d, answers=answers)
    assert [a.verdict for a in report.answers] == ["correct"] * len(answers) and report.ok


def test_step_reads_back_beside_a_keyword_named_symbol():
    """``step()`` used to be refused when the answer also used ``lambda`` (the L2 coefficient)."""
    d = derive(spec_from_mapping({**spec("relu"), "regularization": {"l2": 0.01}}))
    ctx = CheckContext(d)
    got, _ = parse_answer(ctx, "step(net_h)*lambda + Heaviside(net_h, 1)*lambda", syntax="plain")
    lam, net = ctx.answer_names["lambda"], ctx.answer_names["net_h"]
    assert got == lam * sp.Heaviside(net, 0) + lam * sp.Heaviside(net, 1)
    report = run_check(d, answers=[AnswerInput("w1", "delta_y*w3*step(net_h)*x1 + 2*lambda*w1"),
                                   AnswerInput("w1", "delta_y*w3*step(net_h)*x1 + lambda*w1")])
    assert [a.verdict for a in report.answers] == ["correct", "wrong"]


# --------------------------------------------------------------------------- random networks

@st.composite
def random_networks(draw):
    n_inputs = draw(st.integers(1, 2))
    inputs = [f"x{i}" for i in range(1, n_inputs + 1)]
    neurons, sources = {}, list(inputs)
    for j in range(1, draw(st.integers(1, 3)) + 1):
        chosen = draw(st.lists(st.sampled_from(sources), min_size=1, max_size=2, unique=True))
        neuron = {"from": {s: f"w{j}_{k}" for k, s in enumerate(chosen)}, "activation": draw(st.sampled_from(ACTIVATIONS))}
        if draw(st.booleans()):
            neuron["bias"] = f"b{j}"
        neurons[f"n{j}"] = neuron
        sources.append(f"n{j}")
    return {"name": "random", "inputs": inputs, "neurons": neurons, "outputs": [list(neurons)[-1]],
            "loss": draw(st.sampled_from(["half_sse", "mse"]))}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_networks())
def test_random_networks_read_back(raw):
    assert assert_reads_back(derive(spec_from_mapping(raw))) > 0

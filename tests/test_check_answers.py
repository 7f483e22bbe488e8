"""Symbolic answers: correct ones in every form are accepted, wrong ones get a counterexample
(hostile ones: tests/test_faults.py).

Correct answers are the worked examples' own formulas (shared/worked-examples.md), written
out by hand in several equivalent forms.
"""
from __future__ import annotations

import functools
import random

import pytest
import sympy as sp

from conftest import EXAMPLES
from symbackprop import derive, load_spec, spec_from_mapping
from symbackprop.check import CheckContext, check_answer
from symbackprop.check.context import weight_partner
from symbackprop.errors import SpecError
from symbackprop.expressions import parse_expression


@functools.lru_cache(maxsize=None)
def ctx(stem: str) -> CheckContext:
    return CheckContext(derive(load_spec(EXAMPLES / f"{stem}.yaml")))


CORRECT = [
    # WE-5: dE/dw_AT = δ_T·A with δ_T = out_T(1 − out_T)·δ_F·w_TF, δ_F = out_F(1 − out_F)(out_F − t_F)
    ("we05-221-sigmoid", "w_AT", "-(t_F - out_F)*out_F*(1-out_F)*w_TF*out_T*(1-out_T)*A"),       # the form
    ("we05-221-sigmoid", "w_AT", "A*delta_T"),                                                      # δ terms
    ("we05-221-sigmoid", "w_AT", "A*delta_F*w_TF*out_T*(1 - out_T)"),
    ("we05-221-sigmoid", "w_AT", "A*delta_F*w_TF*sigmoid(net_T)*(1 - sigmoid(net_T))"),             # σ(net) form
    ("we05-221-sigmoid", "w_AT", "A*w_TF*(out_F - t_F)*(out_F - out_F**2)*(out_T - out_T**2)"),      # expanded f′
    ("we05-221-sigmoid", "w_AT",
     "A*w_TF*(sigmoid(w_TF*sigmoid(A*w_AT + B*w_BT) + w_BF*sigmoid(A*w_AB + B*w_BB)) - t_F)"
     "*sigmoid(w_TF*sigmoid(A*w_AT + B*w_BT) + w_BF*sigmoid(A*w_AB + B*w_BB))"
     "*(1 - sigmoid(w_TF*sigmoid(A*w_AT + B*w_BT) + w_BF*sigmoid(A*w_AB + B*w_BB)))"
     "*sigmoid(A*w_AT + B*w_BT)*(1 - sigmoid(A*w_AT + B*w_BT))"),                                 # fully expanded
    ("we05-221-sigmoid", "w_AT",
     r"-\left(t_F - \mathrm{out}_F\right) \cdot \mathrm{out}_F \left(1 - \mathrm{out}_F\right) w_{TF}"
     r" \, \mathrm{out}_T \left(1 - \mathrm{out}_T\right) A"),                                     # LaTeX
    ("we05-221-sigmoid", "w_AT", r"A \delta_F w_{TF} \sigma'(\mathrm{net}_T)"),
    ("we05-221-sigmoid", "w_TF", r"\frac{e^{-\mathrm{net}_F}}{\left(1 + e^{-\mathrm{net}_F}\right)^{2}}"
                                 r"\left(\mathrm{out}_F - t_F\right) \mathrm{out}_T"),             # σ′ through exp
    ("we05-221-sigmoid", "dE_dw_TF", "delta_F*out_T"),
    ("we05-221-sigmoid", "grad_w_BF", "delta_F*out_Bo"),
    ("we05-221-sigmoid", "delta_T", r"\delta_F w_{TF} \mathrm{out}_T (1 - \mathrm{out}_T)"),
    # WE-4, the lecture's own: δ_α = −out_α(1 − out_α)(Target_α − out_α), δ_A = out_A(1 − out_A)(δ_α W_Aα + δ_β W_Aβ)
    ("we04-232-symbolic", "delta_alpha", "-out_alpha*(1 - out_alpha)*(t_alpha - out_alpha)"),
    ("we04-232-symbolic", "delta_A", "out_A*(1 - out_A)*(delta_alpha*W_Aalpha + delta_beta*W_Abeta)"),
    ("we04-232-symbolic", "W_lambdaA", r"\delta_{A} \lambda"),
    ("we04-232-symbolic", "W_Aalpha", r"\mathrm{out}_{A} \delta_{\alpha}"),
    # WE-7: sigmoid + BCE gives δ_p = p − y; the penalty adds 2λw
    ("we07a-bce-l2", "delta_p", "out_p - t_p"),
    ("we07a-bce-l2", "w2", "(out_p - t_p)*out_h + 2*lambda*w2"),
    ("we07a-bce-l2", "w2", r"(\mathrm{out}_p - t_p)\,\mathrm{out}_h + 2 \lambda w_{2}"),
    ("we07c-softmax-ce", "delta_p2", "out_p2 - t_p2"),                                             # one-hot condition
    # WE-1: 2(out2 − t)·3net2²·w2·3net1²·x, and the lecture's expanded 18(w2³w1⁹x⁹ − t)w2³w1⁸x⁹
    ("we01-cubic-chain", "w1", "2*(out_o - t_o)*3*net_o**2*w2*3*net_h**2*x"),
    ("we01-cubic-chain", "w1", "18*(w2**3*w1**9*x**9 - t_o)*w2**3*w1**8*x**9"),
    ("we01-cubic-chain", "w1", "delta_h*x"),
    # WE-8/WE-12: ∂J/∂w1 = −1/N Σ (t − z)x1 (N = 1), dL/dw = 1/m Σ (−x)(y − w1·x)
    ("we08-linear-regression", "w1", "-(t_z - out_z)*x1"),
    ("we12-linreg-m-examples", "w1",
     "(1/3)*((-x__1)*(t_y__1 - w1*x__1) + (-x__2)*(t_y__2 - w1*x__2) + (-x__3)*(t_y__3 - w1*x__3))"),
    # WE-10: ReLU′ written as step(), Heaviside(), or the printed indicator
    ("we10-relu-one-step", "W1_11", "(out_z - t_z)*w2_1*step(net_h1)*x1"),
    ("we10-relu-one-step", "W1_11", "delta_z*w2_1*Heaviside(net_h1, 0)*x1"),
    ("we10-relu-one-step", "W1_11", r"\delta_z w^{(2)}_{1} \mathbf{1}\!\left[\mathrm{net}_{h_{1}} > 0\right] x_{1}"),
    # WE-11: dP/dL = L/√(L² + 2)
    ("we11-composite-chain", "L", "L/sqrt(L**2 + 2)"),
    ("we11-composite-chain", "L", r"\frac{1}{2\sqrt{S}} \cdot 2L"),
    # WE-14: ∂C/∂w⁽¹⁾ = ∂C/∂a·f′(z⁽²⁾)·w⁽²⁾·f′(z⁽¹⁾)·x summed over the data
    ("we14b-two-layer", "w1", " + ".join(
        f"2*(out_a__{i} - t_a__{i})*out_a__{i}*(1 - out_a__{i})*w2*out_h__{i}*(1 - out_h__{i})*x__{i}" for i in (1, 2))),
]


@pytest.mark.parametrize("stem,wrt,answer", CORRECT, ids=[f"{s[:4]}-{w}-{i}" for i, (s, w, _) in enumerate(CORRECT)])
def test_correct_answers_in_every_form_are_accepted(stem, wrt, answer):
    result = check_answer(ctx(stem), wrt, answer)
    assert result.verdict == "correct", (result.comparison.counterexample, result.expression)
    assert result.comparison.counterexample is None and not result.slips


def test_simple_answers_are_proved_symbolically():
    assert check_answer(ctx("we05-221-sigmoid"), "w_AT", "A*delta_F*w_TF*out_T*(1 - out_T)").comparison.proof \
        == "symbolic"
    assert check_answer(ctx("we01-cubic-chain"), "w1", "18*(w2**3*w1**9*x**9 - t_o)*w2**3*w1**8*x**9"
                        ).comparison.proof == "symbolic"


def _independent_values(spec_path, point: dict[str, float]) -> dict[str, float]:
    """Forward values and gradients at ``point`` from the engine's own numeric path (no checker code)."""
    spec = load_spec(spec_path)
    raw = dict(spec.raw)
    raw["values"] = {"inputs": {n: point[n] for n in spec.inputs},
                     "params": {p: point[p] for p in spec.parameters},
                     "targets": {o: point[f"t_{o}"] for o in spec.outputs}}
    d = derive(spec_from_mapping(raw))
    values = dict(d.numbers.forward)
    values.update({f"delta_{k}": v for k, v in d.numbers.deltas.items()})
    values.update({f"grad:{w}": v for w, v in d.numbers.gradients.items()})
    return values


@pytest.mark.parametrize("seed", range(6))
def test_random_wrong_answers_get_a_checked_counterexample(seed):
    """Random products of the lecture's symbols: each is wrong, and the counterexample's two
    values are confirmed by an independent evaluation at that point."""
    rng = random.Random(seed)
    path = EXAMPLES / "we05-221-sigmoid.yaml"
    c = ctx("we05-221-sigmoid")
    pool = ["out_T", "out_F", "out_Bo", "net_T", "w_TF", "w_BF", "A", "B", "t_F", "delta_F", "delta_T"]
    wrt = rng.choice(["w_AT", "w_BT", "w_TF", "w_BF"])
    factors = rng.sample(pool, rng.randint(1, 4))
    answer = f"{rng.choice([1, -1, 2, 0.5])}*" + "*".join(factors) + rng.choice(["", " + 0.1", "*(1 - out_F)"])
    result = check_answer(c, wrt, answer)
    assert result.verdict == "wrong"
    cx = result.comparison.counterexample
    assert cx is not None and cx.answer is not None and abs(cx.answer - cx.correct) > 1e-9
    values = _independent_values(path, cx.leaves)
    assert cx.correct == pytest.approx(values[f"grad:{wrt}"], rel=1e-9, abs=1e-12)
    names = {n: sp.Symbol(n) for n in pool + ["w_AT", "w_BT", "w_AB", "w_BB"]}
    expr = parse_expression(answer, names, where="test")
    by_hand = float(expr.subs({names[n]: values[n] if n in values else cx.leaves[n] for n in
                               map(str, expr.free_symbols)}))
    assert cx.answer == pytest.approx(by_hand, rel=1e-9, abs=1e-12)
    for name, value in cx.used.items():
        assert value == pytest.approx(values[name], rel=1e-9, abs=1e-12)


def test_relu_answer_right_at_the_spec_values_but_not_in_general():
    """ReLU′ left out: equal at WE-10's own values (h1 active), wrong where h1 is off."""
    result = check_answer(ctx("we10-relu-one-step"), "W1_11", "(out_z - t_z)*w2_1*x1")
    assert result.verdict == "wrong"
    cx = result.comparison.counterexample
    assert not cx.at_spec_values and cx.correct == 0
    assert [m.key for m in result.slips] == ["missing_fprime"]


@pytest.mark.parametrize("bad,message", [
    ("w_XY*A", "unknown name 'w_XY'"),
    ("out_T^2", "unknown name"),                  # read as LaTeX: out_T^2 is fine, but w_XY not; see below
])
def test_unknown_names_are_refused(bad, message):
    if bad == "out_T^2":
        assert check_answer(ctx("we05-221-sigmoid"), "w_AT", "A*out_T^2").verdict == "wrong"
        with pytest.raises(SpecError, match=message):
            check_answer(ctx("we05-221-sigmoid"), "w_AT", "A*w_{XY}^2")
        return
    with pytest.raises(SpecError, match=message):
        check_answer(ctx("we05-221-sigmoid"), "w_AT", bad)


def test_wrt_names():
    c = ctx("we05-221-sigmoid")
    for name in ("w_AT", "dE_dw_AT", "grad_w_AT", "dJ_dw_AT"):
        assert c.target(name).key == "w_AT"
    assert c.target("delta_T").node == "net_T"
    with pytest.raises(SpecError, match="not something this network has a derivative for"):
        c.target("w_XX")
    assert ctx("we08-linear-regression").target("delta_z").key == "z__1"   # one example: suffix optional


def test_the_variant_spec_is_checked_against_the_true_gradient():
    c = CheckContext(derive(load_spec(EXAMPLES / "we05-221-sigmoid-updated.yaml")))
    assert c.variant_requested
    assert check_answer(c, "w_AT", "A*delta_F*w_TF*out_T*(1 - out_T)").verdict == "correct"


@pytest.mark.parametrize("name,source,target,partner", [
    ("w_AT", "A", "T", "w_TA"), ("W_lambdaA", "lambda", "A", "W_Alambda"), ("w_BF", "Bo", "F", "w_FB"),
    ("w2_1_3", "h1_3", "h2_1", "w2_3_1"), ("W1_12", "x2", "h1", "W1_21"), ("u12", "x2", "h1", "u21"),
    ("w_BB", "B", "Bo", None), ("w1", "x", "h", None), ("w2_1", "h1", "z", None),
])
def test_what_swapping_weight_indices_means(name, source, target, partner):
    assert weight_partner(name, source, target) == partner

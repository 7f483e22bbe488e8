"""Each catalogued slip, injected by hand into the worked examples' correct answers, is named.

The wrong answers below are the lectures' correct formulas (shared/worked-examples.md) with
one slip typed in; the expected slip is the one the test author injected, never the
checker's output.
"""
from __future__ import annotations

import functools

import pytest

from conftest import EXAMPLES
from symbackprop import derive, load_spec
from symbackprop.check import SLIPS, CheckContext, check_answer


@functools.lru_cache(maxsize=None)
def ctx(stem: str) -> CheckContext:
    return CheckContext(derive(load_spec(EXAMPLES / f"{stem}.yaml")))


WE5 = "we05-221-sigmoid"
# WE-5's correct dE/dw_AT = (out_F − t_F)·out_F(1 − out_F)·w_TF·out_T(1 − out_T)·A (η = 1)
INJECTED = [
    # (example, wrt, wrong answer, the slip injected)
    (WE5, "w_AT", "(t_F - out_F)*out_F*(1-out_F)*w_TF*out_T*(1-out_T)*A", "sign"),
    (WE5, "w_AT", r"\left(t_F - \mathrm{out}_F\right)\mathrm{out}_F\left(1-\mathrm{out}_F\right) w_{TF}"
                  r"\,\mathrm{out}_T\left(1-\mathrm{out}_T\right) A", "sign"),
    (WE5, "w_AT", "2*(out_F - t_F)*out_F*(1-out_F)*w_TF*out_T*(1-out_T)*A", "factor_two"),
    (WE5, "w_AT", "(out_F - t_F)*out_F*(1-out_F)*w_TF*out_T*(1-out_T)*A/2", "factor_two"),
    (WE5, "w_AT", "(out_F - t_F)*out_F*(1-out_F)*w_TF*A", "missing_fprime"),
    (WE5, "w_AT", "(out_F - t_F)*w_TF*out_T*(1-out_T)*A", "missing_fprime"),
    (WE5, "w_AT", "(out_F - t_F)*out_F*(1-out_F)*w_TF*sigmoid(net_T)*A", "fprime_as_activation"),
    (WE5, "w_AT", r"(\mathrm{out}_F - t_F)\mathrm{out}_F(1-\mathrm{out}_F) w_{TF} \sigma(\mathrm{net}_T) A",
     "fprime_as_activation"),
    (WE5, "w_AT", "(out_F - t_F)*out_F*(1-out_F)*w_TF*net_T*(1-net_T)*A", "net_for_out"),
    (WE5, "w_TF", "(out_F - t_F)*out_F*(1-out_F)*net_T", "net_for_out"),          # ∂net_F/∂w_TF = out_T
    (WE5, "w_AT", "(out_F - t_F)*out_F*(1-out_F)*w_TF*sigmoid(out_T)*(1-sigmoid(out_T))*A", "out_for_net"),
    (WE5, "w_AT", "(out_F - t_F)*out_F*(1-out_F)*w_FT*out_T*(1-out_T)*A", "swapped_indices"),
    # the lecture's WE-5 procedure: δ_T through w_TF⁺ = w_TF − η·δ_F·out_T
    (WE5, "w_AT", "A*delta_F*(w_TF - 1*delta_F*out_T)*out_T*(1-out_T)", "updated_weights"),
    (WE5, "delta_T", "delta_F*(w_TF - delta_F*out_T)*out_T*(1 - out_T)", "updated_weights"),
    # WE-4: δ_A = out_A(1 − out_A)(δ_α W_Aα + δ_β W_Aβ); W⁺_λA = W_λA − η δ_A in_λ
    ("we04-232-symbolic", "W_lambdaA", "lambda*out_A*(1-out_A)*delta_alpha*W_Aalpha", "missing_path"),
    ("we04-232-symbolic", "W_lambdaA", "-lambda*out_A*(1-out_A)*(delta_alpha*W_Aalpha + delta_beta*W_Abeta)",
     "sign"),
    ("we04-232-symbolic", "W_lambdaA", "lambda*out_A*(1-out_A)*(delta_alpha*W_alphaA + delta_beta*W_betaA)",
     "swapped_indices"),
    ("we04-232-symbolic", "delta_alpha", "out_alpha*(1 - out_alpha)*(t_alpha - out_alpha)", "sign"),
    ("we04-232-symbolic", "delta_A", "out_A*(1 - out_A)*delta_alpha*W_Aalpha", "missing_path"),
    ("we04-232-symbolic", "delta_A", "delta_alpha*W_Aalpha + delta_beta*W_Abeta", "missing_fprime"),
    # WE-3: node d sends to a (x²), b (tanh) and c (sigmoid): three terms in ∂E/∂out_d
    ("we03-three-formulas", "w1", "x1*out_d*(1-out_d)*(w2*delta_a + w3*delta_b)", "missing_path"),
    ("we03-three-formulas", "w3", "delta_o*w8*out_b*out_d", "fprime_as_activation"),   # tanh′ as tanh(net)
    # WE-2 (layered names): W⁽³⁾'s row used for its column — w3_1_2 for w3_2_1 etc. (both exist)
    ("we02-paths-3-3-3-3-2", "delta_h2_1",
     "out_h2_1*(1-out_h2_1)*(w3_1_1*delta_h3_1 + w3_1_2*delta_h3_2 + w3_1_3*delta_h3_3)", "swapped_indices"),
    ("we02-paths-3-3-3-3-2", "delta_h2_1",
     "out_h2_1*(1-out_h2_1)*(w3_1_1*delta_h3_1 + w3_2_1*delta_h3_2)", "missing_path"),
    # WE-7: sigmoid + BCE + L2, ∂E/∂w2 = (p − y)·out_h + 2λ·w2
    ("we07a-bce-l2", "w2", "(out_p - t_p)*out_h", "missing_regulariser"),
    ("we07a-bce-l2", "w2", "(out_p - t_p)*out_h + lambda*w2", "factor_two"),
    ("we07a-bce-l2", "w2", "(t_p - out_p)*out_h + 2*lambda*w2", "sign"),
    ("we07a-bce-l2", "w1_1", "(out_p - t_p)*w2*x1 + 2*lambda*w1_1", "missing_fprime"),
    ("we07b-sse-l2", "w2", " + ".join(f"-2*(t_f__{i} - out_f__{i})*out_h__{i}" for i in (1, 2, 3)),
     "missing_regulariser"),
    ("we07c-softmax-ce", "delta_p2", "t_p2 - out_p2", "sign"),
    # WE-1: 2(out2 − t)·3net2²·w2·3net1²·x (no ½ in E)
    ("we01-cubic-chain", "w1", "(out_o - t_o)*3*net_o**2*w2*3*net_h**2*x", "factor_two"),
    ("we01-cubic-chain", "w1", "2*(out_o - t_o)*3*net_o**2*w2*3*out_h**2*x", "out_for_net"),
    ("we01-cubic-chain", "w1", "2*(net_o - t_o)*3*net_o**2*w2*3*net_h**2*x", "net_for_out"),
    ("we01-cubic-chain", "w1", "2*(out_o - t_o)*3*net_o**2*w2*x", "missing_fprime"),
    # WE-8: the lecture's dropped sign in ∂J/∂w1 = −1/N Σ (t − z)x1
    ("we08-linear-regression", "w1", "(t_z - out_z)*x1", "sign"),
    # WE-9 and WE-12: J = 1/(2N) Σ (c − z)²
    ("we12-linreg-m-examples", "w1",
     "(-x__1)*(t_y__1 - w1*x__1) + (-x__2)*(t_y__2 - w1*x__2) + (-x__3)*(t_y__3 - w1*x__3)", "mean_factor"),
    ("we12-linreg-m-examples", "w1", "((-x__1)*(t_y__1 - w1*x__1) + (-x__2)*(t_y__2 - w1*x__2))/3", "missing_path"),
    ("we09-two-layer-sigmoid", "w2_1",
     " + ".join(f"(t_z__{i} - out_z__{i})*out_z__{i}*(1 - out_z__{i})*out_h1__{i}/3" for i in (1, 2, 3)), "sign"),
    # WE-10: ReLU network
    ("we10-relu-one-step", "w2_1", "(t_z - out_z)*out_h1", "sign"),
    ("we10-relu-one-step", "W1_11", "(out_z - t_z)*w2_1*x1", "missing_fprime"),
    ("we03-three-formulas", "w2", "2*out_a*delta_o*w7*out_d", "out_for_net"),          # (x²)′ = 2·net, not 2·out
    ("we10-relu-one-step", "W1_11", "(out_z - t_z)*w2_1*step(net_h1)*x1 + (out_z - t_z)*w2_2*step(net_h2)*x1",
     None),   # a made-up term no slip explains
    # WE-14: the shared factor of both examples, one example forgotten
    ("we14a-one-neuron", "w", "2*(out_a__1 - t_a__1)*out_a__1*(1 - out_a__1)*x__1", "missing_path"),
    # issue 18: the residual block's skip h1 -> h2 left out; softmax + CE with the sigmoid's δ
    # (values checked against independent computations in tests/test_edges.py)
    ("residual-block", "w1", "x*v1*(1-out_a1**2)*w2*v2*(1-out_a2**2)*w3*(out_o-t_o)*out_o*(1-out_o)", "missing_skip"),
    ("we07c-softmax-ce", "delta_p2", "out_p2*(1-out_p2)*(out_p2-t_p2)", "softmax_sigmoid_delta"),
    ("batchnorm-3", "b", " + ".join(f"delta_z__{n}*g/sqrt(var_z + 1/1000)*(1 - out_h__{n}**2)" for n in (1, 2, 3)),
     "batch_stats_constant"),
    # the unrolled RNN: ∂E/∂W = Σ_t δ_{h_t}·h_{t−1}, only the last step's term kept (BPTT truncated)
    ("rnn-three-steps", "W", "delta_h_3*out_h_2", "truncated_sum"),
]


@pytest.mark.parametrize("stem,wrt,answer,slip", INJECTED,
                         ids=[f"{s[:4]}-{w}-{k}-{i}" for i, (s, w, _, k) in enumerate(INJECTED)])
def test_injected_slip_is_named(stem, wrt, answer, slip):
    result = check_answer(ctx(stem), wrt, answer)
    assert result.verdict == "wrong"
    assert result.comparison.counterexample is not None
    names = [m.key for m in result.slips]
    if slip is None:
        assert names == []          # "no known slip matches": never a guess
    else:
        assert slip in names, names


def test_every_catalogued_slip_is_exercised():
    answers = {k for *_, k in INJECTED}
    numeric_only = {"learning_rate", "swapped_entries"}   # worked-solution figures only (update rules, entries)
    assert set(SLIPS) - numeric_only <= answers
    assert numeric_only <= set(SLIPS)


def test_the_missing_path_is_named():
    result = check_answer(ctx("we04-232-symbolic"), "W_lambdaA", "lambda*out_A*(1-out_A)*delta_alpha*W_Aalpha")
    (match,) = [m for m in result.slips if m.key == "missing_path"]
    assert "W_lambdaA → net_A → out_A → net_beta → out_beta → E" in match.detail


def test_the_swapped_weight_is_named():
    result = check_answer(ctx(WE5), "w_AT", "(out_F - t_F)*out_F*(1-out_F)*w_FT*out_T*(1-out_T)*A")
    assert any("w_TF written as w_FT" in m.detail for m in result.slips)


def test_slips_are_exact_reproductions_not_resemblances():
    """A slip plus a small extra change matches nothing."""
    result = check_answer(ctx(WE5), "w_AT", "(t_F - out_F)*out_F*(1-out_F)*w_TF*out_T*(1-out_T)*A*1.001")
    assert result.verdict == "wrong" and result.slips == []


ROUND_TRIP = [("we05-221-sigmoid", ["w_AT", "w_TF", "delta_T"]), ("we04-232-symbolic", ["W_lambdaA", "delta_A"]),
              ("we07a-bce-l2", ["w1_1", "w2"]), ("we10-relu-one-step", ["W1_11", "w2_2"]),
              ("we12-linreg-m-examples", ["w1"])]


@pytest.mark.parametrize("stem,targets", ROUND_TRIP, ids=[s for s, _ in ROUND_TRIP])
def test_every_change_of_every_slip_round_trips(stem, targets):
    """Self-consistency: each change the catalogue can make, written out as plain text and
    checked as an answer, is named (or, where it changes nothing, accepted as correct)."""
    from symbackprop.check.answers import candidate_expression
    from symbackprop.check.context import NotApplicable
    from symbackprop.check.slips import ANSWER

    c = ctx(stem)
    named = 0
    for wrt in targets:
        target = c.target(wrt)
        base = c.adjoint(target.node)
        for slip in SLIPS.values():
            for change in slip.changes(c, target.node):
                if ANSWER not in change.applies or change.update_rule:
                    continue
                try:
                    expr = candidate_expression(c, target.node, change, base)
                except NotApplicable:
                    continue
                result = check_answer(c, wrt, str(expr))
                if result.verdict == "correct":
                    continue
                assert slip.key in [m.key for m in result.slips], (wrt, change.detail)
                named += 1
    assert named >= 5


# Shared weights of the unrolled shapes: ∂E/∂W of the 3-step RNN is Σ_t δ_{h_t}·h_{t−1}, ∂E/∂k of the
# 2-D convolution the sum over the kernel's nine positions (examples/independent/rnn-three-steps.py,
# conv2d-4x4.py); the slip keeps the last term(s) only.
SHARED = [
    ("rnn-three-steps", "W", "delta_h_3*out_h_2", "the last time step of its 3"),
    ("rnn-three-steps", "U", "delta_h_2*x_2 + delta_h_3*x_3", "the last 2 time steps of its 3"),
    ("conv2d-4x4", "k1_1_1", "delta_c1_3_3*x_3_3", "the last kernel position of its 9"),
]


@pytest.mark.parametrize("stem,wrt,answer,detail", SHARED, ids=[f"{s}-{w}" for s, w, *_ in SHARED])
def test_shared_weight_summed_over_the_last_uses_only_is_named(stem, wrt, answer, detail):
    result = check_answer(ctx(stem), wrt, answer)
    assert result.verdict == "wrong"
    (match,) = [m for m in result.slips if m.key == "truncated_sum"]
    assert detail in match.detail, match.detail


def test_truncated_bptt_figure_is_named_in_a_worked_solution():
    """A student's ∂E/∂W_1_1 by BPTT truncated at 2 steps, the figure from the independent
    script examples/independent/rnn-truncated.py (gradients.W_1_1.value), graded against the
    true gradient of the same network."""
    import json

    from symbackprop.check import grade_solution

    expected = {c["key"]: c["value"] for c in json.loads((EXAMPLES / "rnn-truncated.expected.json").read_text())["checks"]
                if "value" in c}
    student = round(expected["gradients.W_1_1.value"], 6)
    assert abs(student - expected["variant.true_gradient_values.W_1_1"]) > 1e-3   # a real difference
    result = grade_solution(ctx("rnn-truncated"), [("dE_dW_1_1", f"{student:.6f}", "solution.dE_dW_1_1")])
    (fig,) = result.figures
    assert fig.status == "wrong"
    assert "truncated_sum" in [m.key for m in fig.slips], [m.key for m in fig.slips]

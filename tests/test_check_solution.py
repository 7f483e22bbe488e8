"""Worked solutions: graded within the rounding written, with error carried forward.

The lecture answer files hold the lecture's printed figures (shared/worked-examples.md);
what the checker must say about them is what the worked examples say: WE-5/WE-6 hidden
deltas computed with the updated output weights, WE-8 gradient sign dropped but the update
right, WE-10 ∂J/∂w²₁₁ sign dropped.
"""
from __future__ import annotations

import functools

import pytest

from conftest import EXAMPLES
from symbackprop import derive, load_spec
from symbackprop.check import CheckContext, Worksheet, grade_solution, read_answer_file
from symbackprop.check.solution import stated_figure
from symbackprop.errors import SpecError


@functools.lru_cache(maxsize=None)
def ctx(stem: str) -> CheckContext:
    return CheckContext(derive(load_spec(EXAMPLES / f"{stem}.yaml")))


def lecture(stem: str, answers: str):
    f = read_answer_file(EXAMPLES / answers)
    assert f.spec == f"{stem}.yaml"
    return grade_solution(ctx(stem), f.solution, file=f.path, title=f.title)


def figures(result):
    return {f.name: f for f in result.figures}


def test_we5_hidden_delta_through_the_updated_output_weights():
    result = lecture("we05-221-sigmoid", "we05-lecture-answers.yaml")
    figs = figures(result)
    # the only wrong printed figure is error_T 0.0024 (the gradient gives 0.002654)
    assert [f.name for f in result.figures if f.status == "wrong"] == ["delta_T"]
    assert result.first_error.name == "delta_T"
    assert result.likely_cause.key == "updated_weights"
    assert "w_TF_new = 0.27" in result.likely_cause.detail and "w_TF = 0.3" in result.likely_cause.detail
    assert [m.key for m in figs["delta_T"].slips] == ["updated_weights"]       # nothing else fits
    # the lecture's variant figure 0.002410 (worked examples), reproduced at the exact values
    assert figs["delta_T"].slips[0].value == pytest.approx(0.002410, abs=6e-7)
    assert figs["delta_T"].exact == pytest.approx(0.002654, abs=6e-7)
    # the figures the lecture rounded by hand are right at their rounding
    for name in ("net_T", "out_T", "delta_F", "w_TF_new", "w_AT_new", "w_BB_new", "out_F_after"):
        assert figs[name].status == "correct", name
    assert figs["net_T"].tolerance == pytest.approx(0.005) and figs["delta_T"].tolerance == pytest.approx(5e-5)


def test_we6_hidden_deltas_through_the_updated_output_weights():
    result = lecture("we06-221-sigmoid", "we06-lecture-answers.yaml")
    figs = figures(result)
    assert result.first_error.name == "delta_T"
    assert result.likely_cause.key == "updated_weights"
    assert result.explains == ["delta_Bo"]          # error_B -0.006 too (variant −0.006280)
    assert figs["delta_Bo"].status == "wrong" and figs["delta_Bo"].slips[0].key == "updated_weights"
    assert figs["delta_T"].slips[0].value == pytest.approx(-0.009161, abs=6e-7)
    assert figs["delta_Bo"].slips[0].value == pytest.approx(-0.006280, abs=6e-7)
    # the new hidden weights follow from those deltas: error carried forward (0.208 from −0.006)
    for name in ("w_AT_new", "w_BT_new", "w_BB_new"):
        assert figs[name].status == "carried_forward", name
    # net_B 0.17 of the second pass is right at its rounding (0.172815) but does not follow
    # from 0.301 and 0.208 (0.1·0.301 + 0.7·0.208 = 0.1757): a rounding slip
    assert figs["net_Bo_after"].status == "correct" and not figs["net_Bo_after"].consistent
    assert figs["net_Bo_after"].yours[0] <= 0.1757 <= figs["net_Bo_after"].yours[1]
    assert figs["out_F_after"].status == "correct"


def test_we8_gradient_sign_dropped_but_the_update_is_right():
    result = lecture("we08-linear-regression", "we08-lecture-answers.yaml")
    figs = figures(result)
    assert result.first_error.name == "dJ_dw1"
    assert result.likely_cause.key == "sign"
    assert figs["dJ_dw1"].status == figs["dJ_db"].status == "wrong"
    assert [m.key for m in figs["dJ_db"].slips] == ["sign"]
    assert figs["dJ_dw2"].status == "correct"
    # w = (0.5, 0) is right, and it is not what the printed −1 would give (1.5)
    assert figs["w1_new"].status == "correct" and not figs["w1_new"].consistent
    assert figs["w1_new"].yours[0] <= 1.5 <= figs["w1_new"].yours[1]
    assert "w1_new is right but not computed from your own earlier figures" in result.summary


def test_we10_dropped_sign_in_the_w2_gradient():
    result = lecture("we10-relu-one-step", "we10-lecture-answers.yaml")
    figs = figures(result)
    assert result.first_error.name == "dJ_dw2_1"
    assert result.likely_cause.key == "sign"
    assert [f.name for f in result.figures if f.status == "wrong"] == ["dJ_dw2_1"]
    assert figs["w2_1_new"].status == "correct" and not figs["w2_1_new"].consistent
    assert figs["dJ_dW1_11"].status == "correct" and figs["J"].status == "correct"


def test_we10_loss_without_the_half():
    """'J = (c − z)² = 1': the ½ missing."""
    result = grade_solution(ctx("we10-relu-one-step"), [("out_z", "1", "s.out_z"), ("J", "1", "s.J")])
    assert result.first_error.name == "J" and result.likely_cause.key == "factor_two"


def test_error_carried_forward_and_first_real_error():
    """A wrong out_T (0.70 instead of 0.68): everything computed from it follows from it."""
    entries = [("net_T", "0.755", "a"), ("out_T", "0.70", "b"), ("net_F", "0.8", "c"),
               ("out_F", "0.69", "d"), ("delta_F", "0.0407", "e"), ("dE_dw_TF", "0.0285", "f"),
               ("w_TF_new", "0.2715", "g")]
    result = grade_solution(ctx("we05-221-sigmoid"), entries)
    figs = figures(result)
    assert figs["out_T"].status == "wrong" and result.first_error.name == "out_T"
    assert result.likely_cause is None and "No known slip matches" in result.summary
    # ∂E/∂w_TF = δ_F·out_T = 0.0407·0.70 = 0.02849: right given out_T = 0.70; the update too
    assert figs["dE_dw_TF"].status == "carried_forward" and figs["dE_dw_TF"].uses == ["out_T", "delta_F"]
    assert figs["w_TF_new"].status == "carried_forward"
    # 0.8 is a true rounding of 0.7958, but one significant figure is fewer than the default two
    assert figs["net_F"].status == "insufficient_precision" and "2 significant figures" in figs["net_F"].note


def test_learning_rate_and_update_sign_slips():
    c = ctx("we06-221-sigmoid")   # η = 2; ∂E/∂w_TF = δ_F·out_T = −0.066816 → new 0.333632
    plus = grade_solution(c, [("w_TF_new", "0.0664", "x")])
    assert plus.likely_cause.key == "sign"          # 0.2 + 2·(−0.066816)
    no_eta = grade_solution(c, [("w_TF_new", "0.2668", "x")])
    assert no_eta.likely_cause.key == "learning_rate"   # 0.2 + 0.066816


def test_mean_factor_in_a_worked_solution():
    c = ctx("we12-linreg-m-examples")    # dL/dw1 = 1/3 Σ (−x)(y − w1·x) with w1 = 1.5
    exact = Worksheet(c).quantities["dE_dw1"].exact
    result = grade_solution(c, [("dE_dw1", f"{3 * exact:.4f}", "x")])
    assert result.likely_cause.key == "mean_factor"


@pytest.mark.parametrize("text,value,tolerance", [
    ("0.76", 0.76, 0.005), ("0.80", 0.8, 0.005), ("0.0024", 0.0024, 5e-5), ("2.4e-3", 0.0024, 5e-5),
    ("1.5E2", 150.0, 5.0), (".5", 0.5, 0.05), ("3.", 3.0, 0.5), ("-0.11", -0.11, 0.005),
    # integers are exact
    ("-1", -1.0, 1e-9), ("0", 0.0, 0.0), ("3", 3.0, 3e-9), ("2e-3", 0.002, 2e-12),
])
def test_tolerance_is_inferred_from_the_decimals_written(text, value, tolerance):
    f = stated_figure(text, "x")
    assert f.value == pytest.approx(value) and f.half_unit == pytest.approx(tolerance, abs=1e-15)


def test_trailing_zeros_are_kept_from_the_file(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("solution:\n  net_F: 0.80\n  out_F: 0.690\n")
    f = read_answer_file(path)
    result = grade_solution(ctx("we05-221-sigmoid"), f.solution)
    assert [g.tolerance for g in result.figures] == pytest.approx([0.005, 0.0005])
    assert [g.written for g in result.figures] == ["0.80", "0.690"]


def test_names_and_their_spellings():
    ws = Worksheet(ctx("we05-221-sigmoid"))
    for name, key in [("E", "E"), ("loss", "E"), ("dE_dw_AT", "dE_dw_AT"), ("grad_w_AT", "dE_dw_AT"),
                      ("dJ_dw_AT", "dE_dw_AT"), ("w_AT_new", "w_AT_new"), ("out_F_after", "out_F_after"),
                      ("E_after", "E_after"), ("delta_Bo", "delta_Bo"), ("w_AT", "w_AT")]:
        assert ws.resolve(name).key == key, name
    data = Worksheet(ctx("we12-linreg-m-examples"))
    assert data.resolve("out_y__2").key == "out_y__2" and data.resolve("out_y__2_after").key == "out_y__2_after"
    assert data.resolve("out_y_after__2").key == "out_y__2_after"
    assert data.resolve("out_y") is None             # three examples: the suffix is needed
    assert Worksheet(ctx("we08-linear-regression")).resolve("out_z").key == "out_z__1"


def test_worksheet_exact_values_match_the_engine():
    for stem in ("we05-221-sigmoid", "we09-two-layer-sigmoid", "we07b-sse-l2", "we13-relu-3layer"):
        c = ctx(stem)
        ws = Worksheet(c)
        n = c.derivation.numbers
        for name, value in n.forward.items():
            assert ws.quantities[name].exact == pytest.approx(value, rel=1e-9, abs=1e-12), (stem, name)
        for key, d in c.derivation.deltas.items():
            assert ws.quantities[str(d.symbol)].exact == pytest.approx(n.deltas[key], rel=1e-9, abs=1e-12)
        for w, value in n.gradients.items():
            assert ws.quantities[f"d{c.loss_name}_d{w}"].exact == pytest.approx(value, rel=1e-9, abs=1e-12)
        for w, value in (n.updated_params or {}).items():
            if f"{w}_new" in ws.quantities:
                assert ws.quantities[f"{w}_new"].exact == pytest.approx(value, rel=1e-9, abs=1e-12)
        for name, value in (n.forward_after or {}).items():
            assert ws.quantities[f"{name}_after"].exact == pytest.approx(value, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("entries,message", [
    ([("out_X", "0.5", "solution.out_X")], "'out_X' is not a figure of this network"),
    ([("out_T", "0.6x", "solution.out_T")], "must be a number as written"),
    ([("out_T", ".nan", "solution.out_T")], "must be a number as written"),
    ([("out_T", None, "solution.out_T")], "must be a number"),
    ([("dE_dw_AT", "1", "a"), ("grad_w_AT", "1", "b")], "are the same figure"),
])
def test_bad_figures_are_refused(entries, message):
    with pytest.raises(SpecError, match=message):
        grade_solution(ctx("we05-221-sigmoid"), entries)


def test_a_spec_without_values_cannot_grade_numbers():
    with pytest.raises(SpecError, match="no values"):
        Worksheet(ctx("we04-232-symbolic"))


def test_lecture_formulas_in_the_answer_files():
    """WE-4's update rules are right; WE-8's matrix form and WE-9's two formulas drop a sign."""
    from symbackprop.check import AnswerInput, run_check

    def check(stem, answers):
        f = read_answer_file(EXAMPLES / answers)
        report = run_check(derive(load_spec(EXAMPLES / f"{stem}.yaml")),
                           answers=[AnswerInput(w, t, s, where) for w, t, s, where in f.answers])
        return report.answers

    assert all(a.verdict == "correct" for a in check("we04-232-symbolic", "we04-lecture-answers.yaml"))
    scalar, matrix_w1, matrix_w2 = check("we08-linear-regression", "we08-lecture-answers.yaml")
    assert scalar.verdict == "correct"
    for a in (matrix_w1, matrix_w2):
        assert a.verdict == "wrong" and [m.key for m in a.slips] == ["sign"]
    for a in check("we09-two-layer-sigmoid", "we09-lecture-answers.yaml"):
        assert a.verdict == "wrong" and [m.key for m in a.slips] == ["sign"]


def test_doctests_of_the_check_package(monkeypatch):
    import doctest
    import importlib

    monkeypatch.chdir(EXAMPLES.parent)     # the examples name files relative to the repository

    for name in ("evaluate", "latex", "context", "checker", "__init__"):
        module = importlib.import_module(f"symbackprop.check.{name}" if name != "__init__" else "symbackprop.check")
        failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert failures == 0, name


# ----------------------------------------------------------------------------- more figures a solution may state
# Expected values computed by hand from the WE-5 figures of shared/worked-examples.md and the
# exact values listed there: E = ½(0.5 − 0.690283)² = 0.018104, ∂E/∂out_F = out_F − t = 0.190283,
# ∂E/∂out_T = δ_F·w_TF = 0.040681·0.3 = 0.012204, ∂E/∂out_Bo = δ_F·w_BF = 0.036613,
# the step of w_AT = −η·∂E/∂w_AT = −0.000929.

def test_loss_terms_backpropagated_sums_and_steps_are_figures():
    result = grade_solution(ctx("we05-221-sigmoid"), [
        ("E_F", "0.0181", "a"), ("dE_dout_F", "0.190", "b"), ("dE_dout_T", "0.01220", "c"),
        ("dE_dout_Bo", "0.0366", "d"), ("dw_AT", "-0.000929", "e")])
    assert result.ok, [(f.name, f.status) for f in result.figures]
    exact = {f.name: f.exact for f in result.figures}
    assert exact == pytest.approx({"E_F": 0.0181039, "dE_dout_F": 0.190283, "dE_dout_T": 0.0122043,
                                   "dE_dout_Bo": 0.0366130, "dw_AT": -0.000929071}, rel=1e-5)


def test_a_wrong_loss_term_sum_or_step_is_caught_and_diagnosed():
    result = grade_solution(ctx("we05-221-sigmoid"), [
        ("E_F", "0.0362", "a"), ("dE_dout_F", "-0.190", "b"), ("dw_AT", "0.000929", "c"), ("dE_dout_T", "0.0366", "d")])
    figs = figures(result)
    assert {n: f.status for n, f in figs.items()} == {"E_F": "wrong", "dE_dout_F": "wrong", "dw_AT": "wrong",
                                                      "dE_dout_T": "wrong"}
    assert figs["E_F"].slips[0].key == "factor_two"          # the ½ dropped
    assert figs["dE_dout_F"].slips[0].key == "sign"
    assert figs["dw_AT"].slips[0].key == "sign"              # + η·∂E/∂w
    assert figs["dE_dout_T"].slips == []


def test_per_example_losses_and_terms_with_data():
    c = ctx("we12-linreg-m-examples")
    ws = Worksheet(c)
    n = c.examples
    assert {f"E__{k}" for k in range(1, n + 1)} <= set(ws.quantities)
    # J = 1/N Σ_n ½(y_n − w1·x_n)²: the mean of the per-example losses (no regularisation here)
    total = sum(ws.quantities[f"E__{k}"].exact for k in range(1, n + 1)) / n
    assert total == pytest.approx(ws.quantities["E"].exact, rel=1e-12)
    assert ws.quantities["E_y__2"].exact == ws.quantities["E__2"].exact
    wrong = grade_solution(c, [("E__2", f"{ws.quantities['E__2'].exact * 2:.4f}", "a")])
    assert wrong.figures[0].status == "wrong"


def test_many_decimals_are_not_labelled_exact():
    result = grade_solution(ctx("we05-221-sigmoid"), [("out_T", "0.6802671967", "a"), ("net_Bo", "0.68", "b")])
    assert [f.exact_written for f in result.figures] == [False, False]
    assert [f.status for f in result.figures] == ["correct", "correct"]


def _symmetric_spec(tmp_path):
    """Two inputs x2 = 2·x1 and two identical hidden neurons, so δ_h1 = δ_h2 and
    ∂E/∂W1_12 = δ_h1·x2 is exactly twice ∂E/∂W1_21 = δ_h2·x1."""
    spec = tmp_path / "sym.yaml"
    spec.write_text("""name: sym
inputs: [x1, x2]
neurons:
  h1: {from: {x1: W1_11, x2: W1_12}, activation: sigmoid}
  h2: {from: {x1: W1_21, x2: W1_22}, activation: sigmoid}
  z: {from: {h1: w2_1, h2: w2_2}, activation: sigmoid}
outputs: [z]
loss: half_sse
values:
  inputs: {x1: 0.3, x2: 0.6}
  params: {W1_11: 0.1, W1_12: 0.2, W1_21: 0.5, W1_22: 0, w2_1: 0.4, w2_2: 0.4}
  targets: {z: 1}
learning_rate: 1
""")
    return CheckContext(derive(load_spec(spec)))


def test_swapped_entries_are_named_not_taken_for_a_factor_two(tmp_path):
    c = _symmetric_spec(tmp_path)
    ws = Worksheet(c)
    g12, g21 = ws.quantities["dE_dW1_12"].exact, ws.quantities["dE_dW1_21"].exact
    assert g12 == pytest.approx(2 * g21, rel=1e-12)          # the trap: a factor 2 fits as well
    result = grade_solution(c, [("dE_dW1_12", f"{g21:.4e}", "a"),
                                ("W1_21_new", f"{ws.quantities['W1_12_new'].exact:.5f}", "b")])
    grad, update = result.figures
    assert grad.status == "wrong" and grad.slips[0].key == "swapped_entries"
    assert grad.slips[0].detail == "dE_dW1_12 holds the value of dE_dW1_21 (W1_21 for W1_12)"
    assert any(m.key == "factor_two" for m in grad.slips[1:])
    assert update.status == "wrong" and update.slips[0].key == "swapped_entries"
    assert result.likely_cause.key == "swapped_entries"

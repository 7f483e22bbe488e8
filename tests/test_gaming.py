"""A student who wants a right verdict for a wrong answer (issue 14's adversarial suite).

Each attack asserts the specific verdict or refusal, never just "did not crash". This file
starts with circular answers: an answer for δ_j written in terms of δ_j itself, or of a δ
defined through δ_j, would be "proved correct" by substitution, and is refused instead.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import EXAMPLES
from symbackprop import SpecError, derive, load_spec
from symbackprop.check import CheckContext, check_answer

WE5 = EXAMPLES / "we05-221-sigmoid.yaml"
WE4 = EXAMPLES / "we04-232-symbolic.yaml"


@pytest.fixture(scope="module")
def we5() -> CheckContext:
    return CheckContext(derive(load_spec(WE5)))


@pytest.mark.parametrize("wrt, answer, offending", [
    ("delta_T", "delta_T", "may not use delta_T itself"),
    ("delta_T", "2*delta_T - delta_T", "may not use delta_T itself"),
    ("delta_T", r"\delta_{T}", "may not use delta_T itself"),                      # LaTeX spelling
    ("delta_F", "delta_T/(w_TF*out_T*(1 - out_T))", "may not use delta_T, which is defined through delta_F"),
    ("delta_F", "delta_Bo/(w_BF*out_Bo*(1 - out_Bo))", "may not use delta_Bo, which is defined through delta_F"),
])
def test_circular_answers_are_refused_naming_the_symbol(we5, wrt, answer, offending):
    result = check_answer(we5, wrt, answer)
    assert result.verdict == "refused" and not result.ok
    assert result.refused == f"the answer for {wrt} {offending}"


@pytest.mark.parametrize("wrt, answer", [
    ("delta_T", "delta_F*w_TF*out_T*(1 - out_T)"),   # the lecture's own form: δ of a later layer
    ("w_AT", "A*delta_T"),                           # a gradient in cached δs
    ("w_AT", "A*delta_F*w_TF*out_T*(1 - out_T)"),
])
def test_the_lecture_forms_stay_allowed_and_correct(we5, wrt, answer):
    assert check_answer(we5, wrt, answer).verdict == "correct"


def test_a_wrong_non_circular_answer_is_still_wrong(we5):
    assert check_answer(we5, "delta_T", "delta_F*w_TF*out_T").verdict == "wrong"


def test_circular_answers_are_refused_on_wider_networks_too():
    ctx = CheckContext(derive(load_spec(WE4)))
    hidden = next(str(s) for k, s in ctx.delta_symbols.items() if ctx.delta_nodes[k] == "net_A")
    output = next(str(s) for k, s in ctx.delta_symbols.items() if ctx.delta_nodes[k] == "net_alpha")
    result = check_answer(ctx, output, f"{hidden} + 1")
    assert result.verdict == "refused"
    assert result.refused.endswith(f"may not use {hidden}, which is defined through {output}")


def test_the_command_marks_a_circular_answer_refused_and_checks_the_others():
    """A refusal is a verdict for that answer (exit 1, the others still checked), not bad input."""
    proc = subprocess.run([sys.executable, "-m", "symbackprop", "check", str(WE5), "--wrt", "delta_T",
                           "--answer", "delta_T", "--wrt", "w_AT", "--answer", "A*delta_T"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and proc.stderr == ""
    assert "✗ delta_T   refused: the answer for delta_T may not use delta_T itself" in proc.stdout
    assert "✓ dE/dw_AT   correct" in proc.stdout


# ----------------------------------------------------------------------------- the student sets the tolerance?

import yaml  # noqa: E402

from symbackprop.check import AnswerInput, SolutionInput, run_check  # noqa: E402
from symbackprop.check.solution import grade_solution  # noqa: E402
from symbackprop.spec.marking import MarkingPolicy, Tolerance  # noqa: E402

WE5_FIGURES = ["net_T", "out_T", "net_Bo", "out_Bo", "net_F", "out_F", "E", "delta_F", "delta_T", "delta_Bo",
               "dE_dw_AT", "dE_dw_BT", "dE_dw_TF", "w_TF_new", "w_AT_new", "out_F_after"]


def _statuses(ctx, entries, **kw):
    result = grade_solution(ctx, [(n, v, n) for n, v in entries], **kw)
    return {f.name: f.status for f in result.figures}, result


@pytest.mark.parametrize("written", ["0.e+9", "0.e9", "0.", "0.0", "0.00e+3"])
def test_an_exponent_or_a_bare_zero_never_widens_the_tolerance(we5, written):
    """Every WE-5 figure written as 0.e+9 (±5·10⁸ by its stated precision) or 0. (±0.5) scored 16/16."""
    statuses, result = _statuses(we5, [(n, written) for n in WE5_FIGURES])
    assert not result.ok
    # no figure is even a coarse rounding: 0.e9 holds no digit of δ_T = 0.00265 (once graded
    # "insufficient precision", which symbackprop grade paid half marks for, every figure)
    assert set(statuses.values()) == {"wrong"}


def test_a_one_significant_figure_rounding_is_insufficient_by_default(we5):
    statuses, result = _statuses(we5, [("delta_T", "0.003"), ("delta_Bo", "0.008"), ("delta_F", "0.041")])
    assert statuses == {"delta_T": "insufficient_precision", "delta_Bo": "insufficient_precision",
                        "delta_F": "correct"}
    fig = next(f for f in result.figures if f.name == "delta_T")
    assert fig.tolerance == pytest.approx(5e-5) and fig.stated == pytest.approx(5e-4)
    assert "at least 2 significant figures" in fig.note


def test_an_integer_claims_the_exact_value_so_zero_is_wrong_for_a_tiny_gradient(we5):
    statuses, _ = _statuses(we5, [("dE_dw_AT", "0"), ("dE_dw_TF", "0e5")])
    assert statuses == {"dE_dw_AT": "wrong", "dE_dw_TF": "wrong"}


def test_the_exact_value_is_right_with_any_number_of_digits():
    c = CheckContext(derive(load_spec(EXAMPLES / "we10-relu-one-step.yaml")))
    # J = ½, h₂ = 0, ∂J/∂W1_12 = 0 and the loss after the step 2, exactly, in few digits
    statuses, _ = _statuses(c, [("J", "0.5"), ("out_h2", "0."), ("dE_dW1_12", "0.0"), ("E_after", "2.")])
    assert set(statuses.values()) == {"correct"}
    statuses, _ = _statuses(c, [("J", "0.6"), ("out_h2", "0.1"), ("E_after", "2.1")])
    assert statuses == {"J": "wrong", "out_h2": "wrong", "E_after": "wrong"}


def test_the_instructor_policy_caps_a_correct_rounding(we5):
    strict = Tolerance(significant_figures=None, relative=0.005)
    statuses, result = _statuses(we5, [("net_F", "0.80"), ("out_F", "0.69"), ("delta_F", "0.0407")],
                                 default=strict)
    # 0.80 for 0.801445 is off by 0.18 % (right); 0.69 for 0.690283 by 0.04 %; 0.0407 by 0.05 %
    assert statuses == {"net_F": "correct", "out_F": "correct", "delta_F": "correct"}
    # 0.76 for 0.755 is a true rounding (0.66 % off) but 0.5 % needs three figures here
    statuses, _ = _statuses(we5, [("net_T", "0.76"), ("out_T", "0.684")], default=strict)
    assert statuses == {"net_T": "insufficient_precision", "out_T": "wrong"}   # 0.684: 0.55 % off
    assert result.rule == "within 0.5 % of the exact value"


def test_decimals_and_absolute_rules(we5):
    three = Tolerance(significant_figures=None, decimals=3)
    statuses, _ = _statuses(we5, [("net_T", "0.755"), ("out_T", "0.68"), ("delta_T", "0.003")], default=three)
    assert statuses == {"net_T": "correct", "out_T": "insufficient_precision", "delta_T": "correct"}
    absolute = Tolerance(significant_figures=None, absolute=1e-4)
    statuses, _ = _statuses(we5, [("out_T", "0.6803"), ("out_F", "0.690"), ("E", "0.0185")], default=absolute)
    # 0.690 is a true rounding of 0.690283 but ±1e-4 needs four decimals; 0.0185 is 4e-4 off
    assert statuses == {"out_T": "correct", "out_F": "insufficient_precision", "E": "wrong"}


def test_copied_givens_do_not_widen_error_carried_forward(tmp_path):
    """Restating a given with fewer digits (A: 0.45 for 0.4537) must not make a later slip
    "correct given your figures": the givens are the instructor's, recomputed exactly."""
    raw = yaml.safe_load(WE5.read_text())
    raw["values"]["inputs"]["A"] = 0.4537
    raw["values"]["params"]["w_AT"] = 0.1234
    spec = tmp_path / "givens.yaml"
    spec.write_text(yaml.safe_dump(raw))
    c = CheckContext(derive(load_spec(spec)))
    # net_T = 0.4537·0.1234 + 0.9·0.8 = 0.77598658; 0.7755 is 4.9e-4 off at ±5e-5
    statuses, result = _statuses(c, [("A", "0.45"), ("w_AT", "0.12"), ("net_T", "0.7755")])
    assert statuses["net_T"] == "wrong"
    net = next(f for f in result.figures if f.name == "net_T")
    assert net.uses == [] and net.yours == pytest.approx((0.77598658, 0.77598658))


def test_a_figure_computed_from_a_coarse_figure_of_its_own_is_still_carried_forward(we5):
    """The student's own computed figures do carry their error (at their rounding, capped)."""
    statuses, _ = _statuses(we5, [("out_T", "0.70"), ("dE_dw_TF", "0.0285"), ("delta_F", "0.0407")])
    assert statuses == {"out_T": "wrong", "dE_dw_TF": "carried_forward", "delta_F": "correct"}


def _we5_with(tmp_path, marking: dict):
    raw = yaml.safe_load(WE5.read_text())
    raw["marking"] = marking
    spec = tmp_path / "marked.yaml"
    spec.write_text(yaml.safe_dump(raw, allow_unicode=True))
    return spec


def test_the_spec_holds_the_policy_per_question(tmp_path):
    spec = _we5_with(tmp_path, {"tolerance": {"significant_figures": 3},
                                "questions": {"w_TF": {"tolerance": {"significant_figures": 1}},
                                              "delta_T": {"vocabulary": "without_deltas"}}})
    d = derive(load_spec(spec))
    report = run_check(d, answers=[AnswerInput("delta_T", "delta_F*w_TF*out_T*(1 - out_T)"),
                                   AnswerInput("w_AT", "A*delta_T")],
                       solutions=[SolutionInput("s.yaml", (("out_T", "0.68", "a"), ("grad_w_TF", "0.03", "b")))])
    figs = {f.name: f for f in report.solutions[0].figures}
    assert figs["out_T"].status == "insufficient_precision"       # 3 significant figures asked
    assert figs["grad_w_TF"].status == "correct"                  # dE/dw_TF: 1 is enough there
    refused, allowed = report.answers
    assert refused.verdict == "refused"
    assert refused.refused == "this question asks for delta_T without deltas: delta_F is one"
    assert allowed.verdict == "correct"                           # w_AT keeps the lecture's vocabulary


@pytest.mark.parametrize("marking, message", [
    ({"tolerance": {"relative": 2}}, "marked.yaml: marking.tolerance.relative: must be between 0 and 1 (0.005 is 0.5 %)"),
    ({"tolerance": {"significant_figures": 1.5}}, "marked.yaml: marking.tolerance.significant_figures: must be a whole number from 0 to 15"),
    ({"tolerance": {"sigfigs": 2}}, "marked.yaml: marking.tolerance.sigfigs: unknown key (allowed: absolute, decimals, relative, significant_figures)"),
    ({"vocabulary": "anything"}, "marked.yaml: marking.vocabulary: must be one of with_deltas, without_deltas, givens_only"),
    ({"questions": {"w_XY": {"vocabulary": "givens_only"}}}, "marked.yaml: marking.questions.w_XY: 'w_XY' is not an answer or figure of this network"),
])
def test_a_bad_policy_is_one_line_and_exit_2(tmp_path, marking, message):
    spec = _we5_with(tmp_path, marking)
    proc = subprocess.run([sys.executable, "-m", "symbackprop", "check", str(spec), "--wrt", "w_AT",
                           "--answer", "A*delta_T"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"symbackprop: error: {tmp_path}/{message}\n"


def test_an_answer_file_cannot_set_the_policy(tmp_path):
    answers = tmp_path / "mine.yaml"
    answers.write_text("marking: {tolerance: {absolute: 1000}}\nsolution:\n  out_T: 5\n")
    proc = subprocess.run([sys.executable, "-m", "symbackprop", "check", str(WE5), "--answer-file", str(answers)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "marking: unknown key" in proc.stderr


def test_command_line_rules_go_on_top_of_the_spec_and_are_printed(tmp_path):
    answers = tmp_path / "mine.yaml"
    answers.write_text("solution:\n  delta_Bo: 0.008\n  out_T: 0.68\n")
    base = [sys.executable, "-m", "symbackprop", "check", str(WE5), "--solution", str(answers)]
    default = subprocess.run(base, capture_output=True, text=True, timeout=120)
    assert default.returncode == 1
    assert "Each figure: at least 2 significant figures, right to half a unit in the last" in default.stdout
    assert "~ delta_Bo  0.008     insufficient precision: the exact value is 0.008172" in default.stdout
    lenient = subprocess.run(base + ["--sig-figs", "1"], capture_output=True, text=True, timeout=120)
    assert lenient.returncode == 0, lenient.stdout
    strict = subprocess.run(base + ["--sig-figs", "0", "--rel-tol", "0.001"], capture_output=True, text=True,
                            timeout=120)
    assert strict.returncode == 1 and "Each figure: within 0.1 % of the exact value" in strict.stdout


# ----------------------------------------------------------------------------- vocabulary

@pytest.mark.parametrize("vocabulary, wrt, answer, verdict, why", [
    ("with_deltas", "w_AT", "A*delta_T", "correct", None),
    ("without_deltas", "w_AT", "A*delta_T", "refused", "this question asks for dE/dw_AT without deltas: delta_T is one"),
    ("without_deltas", "w_AT", "A*delta_F*w_TF*out_T*(1 - out_T)", "refused",
     "this question asks for dE/dw_AT without deltas: delta_F is one"),
    ("without_deltas", "w_AT", "-A*(t_F - out_F)*out_F*(1 - out_F)*w_TF*out_T*(1 - out_T)", "correct", None),
    ("givens_only", "w_AT", "-A*(t_F - out_F)*out_F*(1 - out_F)*w_TF*out_T*(1 - out_T)", "refused",
     "this question asks for dE/dw_AT in the given quantities only (inputs, weights, targets): out_F is not one"),
    ("givens_only", "delta_T", "delta_T", "refused", "the answer for delta_T may not use delta_T itself"),
])
def test_the_instructor_limits_the_vocabulary(we5, vocabulary, wrt, answer, verdict, why):
    result = check_answer(we5, wrt, answer, vocabulary=vocabulary)
    assert result.verdict == verdict and result.refused == why


def test_givens_only_accepts_the_fully_expanded_gradient(we5):
    sig = "1/(1 + exp(-({})))"
    net_t, net_b = "w_AT*A + w_BT*B", "w_AB*A + w_BB*B"
    out_t, out_b = sig.format(net_t), sig.format(net_b)
    out_f = sig.format(f"w_TF*{out_t} + w_BF*{out_b}")
    answer = f"-(t_F - {out_f})*{out_f}*(1 - {out_f})*w_TF*{out_t}*(1 - {out_t})*A"
    assert check_answer(we5, "w_AT", answer, vocabulary="givens_only").verdict == "correct"


def test_a_gradient_answer_cannot_name_its_own_derivative(we5):
    with pytest.raises(SpecError, match="unknown name 'dE_dw_AT'"):
        check_answer(we5, "w_AT", "dE_dw_AT")


# ----------------------------------------------------------------------------- adversarial equivalence

@pytest.mark.parametrize("answer", [
    "A*delta_T + relu(w_AT - 1.51)*1000",     # right wherever w_AT < 1.51 (all of the old ±1.5 box)
    "A*delta_T + relu(A - 2)",                # right for every input below 2
    "A*delta_T*step(w_AT + 100)",             # right above −100
    "A*delta_T + Heaviside(w_AT - 500)",
    "A*delta_T*(1 + abs(w_BT - 0.8) - (w_BT - 0.8))",   # right for w_BT ≥ 0.8 only
    "A*delta_T + 1e-30*w_AT",                 # a term below the old absolute floor
    "0",
])
def test_answers_right_only_somewhere_are_wrong_with_a_counterexample(we5, answer):
    result = check_answer(we5, "w_AT", answer, seed=1)
    assert result.verdict == "wrong", (answer, result.comparison)
    c = result.comparison.counterexample
    assert c is not None and c.answer != c.correct


def test_an_answer_whose_other_side_is_never_reached_is_not_accepted(we5):
    """max(A·δ_T, −100) differs only where A·δ_T < −100, which no test point reaches: it may
    not be accepted on numbers, and the report says why."""
    result = check_answer(we5, "w_AT", "max(A*delta_T, -100)", seed=1)
    assert result.verdict == "undecided" and not result.ok
    assert result.comparison.uncrossed == ["-A*delta_T - 100"]


def test_a_correct_piecewise_rewrite_is_accepted_and_flagged(we5):
    result = check_answer(we5, "w_AT", "relu(A*delta_T) - relu(-A*delta_T)", seed=1)
    assert result.verdict == "correct" and result.comparison.proof == "numeric"
    assert sorted(result.comparison.switches) == ["-A*delta_T", "A*delta_T"]
    assert result.comparison.uncrossed == []


def test_zero_is_wrong_for_a_gradient_that_is_always_tiny(tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text("""name: tiny
inputs: [x]
neurons:
  y: {from: {x: w}, activation: sigmoid}
outputs: [y]
loss: "(t_y - out_y)**2/10**30"
values:
  inputs: {x: 0.5}
  params: {w: 0.3}
  targets: {y: 1}
""")
    c = CheckContext(derive(load_spec(spec)))
    result = check_answer(c, "w", "0", seed=3)
    assert result.verdict == "wrong" and result.comparison.counterexample.at_spec_values
    assert check_answer(c, "w", "x*delta_y", seed=3).verdict == "correct"


def test_the_test_points_span_decades_and_both_signs(we5):
    points = we5.points(24, seed=5)
    weights = [abs(float(v)) for p in points[1:] for s, v in p.leaves.items() if str(s).startswith("w_")]
    assert min(weights) < 0.05 and max(weights) > 5          # beyond the old ±[0.05, 1.5] box
    assert {float(v) > 0 for p in points for s, v in p.leaves.items() if str(s) == "w_AT"} == {True, False}


def test_the_seed_is_fresh_per_check_and_printed_to_repeat_it():
    base = [sys.executable, "-m", "symbackprop", "check", str(WE5), "--wrt", "w_AT", "--answer", "A*delta_T"]
    first = subprocess.run(base + ["--format", "json"], capture_output=True, text=True, timeout=120)
    second = subprocess.run(base + ["--format", "json"], capture_output=True, text=True, timeout=120)
    import json
    seeds = [json.loads(p.stdout)["seed"] for p in (first, second)]
    assert seeds[0] != seeds[1]
    again = subprocess.run(base + ["--format", "json", "--seed", str(seeds[0])], capture_output=True, text=True,
                           timeout=120)
    assert again.stdout == first.stdout

"""Hostile answer *input* (issue 14, item 4): a marking run must finish, and no spelling of an
answer may read as something else.

- Letter runs are split into names in one pass: 940 letters ``$AAA…A$`` (65 s before) and
  runs over overlapping names ``a``, ``b``, ``ab`` (45 characters: 108 s before) are bounded
  here by Python steps, not by the clock.
- Superscripts are exponents, never part of a name: ``x²`` is ``x**2``, not ``x2``.
- An answer file holds at most ``MAX_ANSWERS`` answers; each answer has a time budget and a
  check run has one, enforced by the checker (a budget that runs out gives *undecided* with a
  note, never *correct*).

Each case asserts the verdict or the refusal's message.
"""
from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys

import pytest

from conftest import EXAMPLES, at_most_steps
from symbackprop import SpecError, derive, load_spec, spec_from_mapping
from symbackprop.check import CheckContext, budget, check_answer, read_answer_file
from symbackprop.check import answers as answers_module
from symbackprop.check.answers import SharedPoints, name_table
from symbackprop.check.budget import Deadline
from symbackprop.check.latex import LatexError, NameTable, latex_to_text
from symbackprop.check.report import text_report, to_dict

WE5 = EXAMPLES / "we05-221-sigmoid.yaml"
STEPS_PER_CHARACTER = 60   # measured: ~41 Python steps per letter of a run, in either case below
HANG = 120                 # wall-clock seconds after which a process has hung (never a speed test)


@pytest.fixture(scope="module")
def we5() -> CheckContext:
    return CheckContext(derive(load_spec(WE5)))


def _steps(text: str) -> int:
    return STEPS_PER_CHARACTER * len(text) + 5_000


# --------------------------------------------------------------------------- linear-time letter runs

@pytest.mark.parametrize("letters", [940, 4_999])
def test_a_long_letter_run_is_split_in_linear_time(we5, letters):
    answer = "$" + "A" * letters + "$"
    with at_most_steps(_steps(answer), f"splitting {letters} letters"):
        text = latex_to_text(answer, name_table(we5)).text
    assert text == "*".join(["A"] * letters)


def test_a_10k_letter_run_is_refused_in_linear_time_once_multiplied_out(we5):
    answer = "$" + "A" * 9_998 + "$"             # 10,000 characters: the most an answer may have
    with pytest.raises(LatexError) as info, at_most_steps(_steps(answer), "splitting 9,998 letters"):
        latex_to_text(answer, name_table(we5))
    assert str(info.value) == "answer too long once converted (19995 characters of plain text; max_length is 10000)"


def test_the_940_letter_answer_is_wrong_with_a_counterexample(we5):
    result = check_answer(we5, "w_AT", "$" + "A" * 940 + "$")
    assert result.verdict == "wrong" and result.comparison.counterexample is not None
    assert str(result.expression) == "A**940"


def test_the_10k_letter_answer_is_refused_naming_the_limit(we5):
    with pytest.raises(SpecError) as info:
        check_answer(we5, "w_AT", "$" + "A" * 9_998 + "$")
    assert str(info.value) == ("answer: LaTeX: answer too long once converted (19995 characters of plain text; "
                               "max_length is 10000)")


@pytest.mark.parametrize("length", [45, 1_000, 9_999])
def test_runs_over_overlapping_names_are_refused_as_ambiguous_in_linear_time(length):
    table = NameTable(["a", "b", "ab"])
    run = ("ab" * length)[:length]
    with pytest.raises(LatexError) as info, at_most_steps(_steps(run), f"{length} letters over a, b, ab"):
        latex_to_text(run, table)
    message = str(info.value)
    assert message.startswith(f"'{run[:40]}… ({length} characters)' is ambiguous (ab·ab·ab·")
    assert " or a·b·ab·ab·" in message and message.endswith("); separate the names")
    assert len(message) < 250   # the run is not echoed whole


def test_a_long_run_with_exactly_one_split_is_read(we5):
    table = NameTable(["ab", "c", "a"])          # abc…: only ab·c works (a·bc has no bc)
    run = "abc" * 1_000
    with at_most_steps(_steps(run), "3,000 letters over ab, c, a"):
        text = latex_to_text(run, table).text
    assert text == "*".join(["ab", "c"] * 1_000)


# --------------------------------------------------------------------------- superscripts are exponents

LAYERS = {"name": "layered", "layers": [2, 1], "activation": "sigmoid", "loss": "half_sse"}
X_AND_X2 = {"name": "x-and-x2", "inputs": ["x", "x2"], "outputs": ["y"], "loss": "half_sse",
            "neurons": {"y": {"from": {"x": "w_x", "x2": "w_2"}, "activation": "sigmoid"}}}


@pytest.fixture(scope="module")
def layered() -> CheckContext:
    return CheckContext(derive(spec_from_mapping(LAYERS)))


@pytest.fixture(scope="module")
def x_and_x2() -> CheckContext:
    return CheckContext(derive(spec_from_mapping(X_AND_X2)))


def test_x_squared_is_not_the_input_x2_in_a_layers_spec(layered):
    """The issue's attack: ∂E/∂w1_1_2 = δ_y1·x2, answered ``\\delta_{y1} x²`` (NFKC made it x2)."""
    assert check_answer(layered, "w1_1_2", r"\delta_{y1} x_{2}").verdict == "correct"
    with pytest.raises(SpecError) as info:
        check_answer(layered, "w1_1_2", r"\delta_{y1} x²")
    assert str(info.value) == "answer: LaTeX: unknown name 'x' at column 13"
    with pytest.raises(SpecError) as info:
        check_answer(layered, "w1_1_2", "delta_y1*x²")
    assert str(info.value) == "answer: unknown name 'x' (allowed names: E, delta_y1, net_y1, out_y1, t_y1, w1_1_1, " \
                              "w1_1_2, w1_2_1, …)"


@pytest.mark.parametrize("answer", [r"\delta_{y1} x_{2}²", r"\delta_{y1} x2²", "delta_y1*x2²", r"\delta_{y1} x_2^2"])
def test_a_squared_input_is_wrong(layered, answer):
    result = check_answer(layered, "w1_1_2", answer)
    assert result.verdict == "wrong" and str(result.expression) == "delta_y1*x2**2"


@pytest.mark.parametrize("answer, syntax", [(r"\delta_{y} x²", "latex"), ("delta_y*x²", "plain"),
                                            ("delta_y*x²", "auto")])
def test_x_squared_is_wrong_where_x_and_x2_are_both_names(x_and_x2, answer, syntax):
    assert check_answer(x_and_x2, "w_2", "delta_y*x2").verdict == "correct"
    result = check_answer(x_and_x2, "w_2", answer, syntax=syntax)
    assert result.verdict == "wrong" and str(result.expression) == "delta_y*x**2"


@pytest.mark.parametrize("answer, expected", [
    ("x²", "x**2"), ("x⁻¹", "1/x"), ("(x + x2)²", "(x + x2)**2"), ("x²x2", None), ("x2⁽²⁾", "x2**2"),
])
def test_unicode_superscripts_in_plain_answers_are_powers(x_and_x2, answer, expected):
    if expected is None:  # x²x2 is x**(2)x2: two factors side by side need '*' in plain syntax
        with pytest.raises(SpecError, match="syntax error at column 3"):
            check_answer(x_and_x2, "w_2", answer, syntax="plain")
        return
    assert str(check_answer(x_and_x2, "w_2", answer, syntax="plain").expression) == expected


def test_a_superscript_letter_is_a_power_too(x_and_x2):
    """``xⁿ`` used to read as the name ``xn``; it is ``x**n`` (and ``n`` is no name here)."""
    with pytest.raises(SpecError, match="unknown name 'n'"):
        check_answer(x_and_x2, "w_2", "xⁿ", syntax="plain")


def test_a_power_of_a_superscript_is_refused_as_ambiguous(x_and_x2):
    with pytest.raises(SpecError) as info:
        check_answer(x_and_x2, "w_2", "x²**3", syntax="plain")
    assert str(info.value) == "answer: '**' after the superscript ² is ambiguous: use brackets, e.g. (x²)**k (column 3)"


# --------------------------------------------------------------------------- limits per answer and per file

def _answer_file(tmp_path, count: int, answer: str = "A*delta_T"):
    lines = ["answers:"] + [f"  - {{wrt: w_AT, answer: {json.dumps(answer)}}}" for _ in range(count)]
    path = tmp_path / "answers.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_an_answer_file_with_too_many_answers_is_refused(tmp_path):
    assert len(read_answer_file(_answer_file(tmp_path, budget.MAX_ANSWERS)).answers) == 500
    path = _answer_file(tmp_path, budget.MAX_ANSWERS + 1)
    with pytest.raises(SpecError) as info:
        read_answer_file(path)
    assert str(info.value) == f"{path}: answers: too many answers (501; an answer file may hold at most 500)"


@pytest.mark.parametrize("answer, message", [
    ("A" * 10_001, "answer too long (10001 characters; max_length is 10000)"),
    (r"\sigma(" * 61 + "A" + ")" * 61, "LaTeX: nested too deeply (more than 60 levels)"),
    ("(" * 101 + "A" + ")" * 101, "brackets nested too deeply (max_depth is 100)"),
    ("A^{1001}", "exponent too large (max_exponent is 1000) (in '(A)**(1001)')"),
    ("A^{10^{10}}", "exponent too large (max_exponent is 1000) (in '(A)**((10)**(10))')"),
    ("2^{2^{2^{2^{2}}}}", "exponent too large (max_exponent is 1000) (in '(2)**((2)**((2)**((2)**(2))))')"),
    ("99^{999}", "number with more than 1000 digits (max_magnitude_digits) (in '(99)**(999)')"),
    ("A**1001", "exponent too large (max_exponent is 1000) (in 'A**1001')"),
])
def test_limits_on_one_answer_are_refused_with_the_limit_named(we5, answer, message):
    with pytest.raises(SpecError) as info:
        check_answer(we5, "w_AT", answer, where="answers[3].answer")
    assert str(info.value) == f"answers[3].answer: {message}"


# --------------------------------------------------------------------------- time budgets (a clock set by hand)

class Clock:
    """Time that moves only when told to, or by ``step`` seconds each time it is read."""

    def __init__(self, step: float = 0.0):
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def _shared(ctx: CheckContext, clock: Clock, seconds: float = budget.RUN_SECONDS) -> SharedPoints:
    shared = SharedPoints(ctx, answers_module.DEFAULT_POINTS, 0)
    shared.deadline = Deadline(seconds, "check", clock=clock)
    return shared


def test_a_correct_answer_whose_budget_runs_out_is_undecided_never_correct(we5, monkeypatch):
    monkeypatch.setattr(budget, "ANSWER_SECONDS", 3.0)
    clock = Clock(step=1.0)   # every look at the clock costs a second: the budget runs out during comparison
    result = check_answer(we5, "w_AT", "A*delta_T", shared=_shared(we5, clock))
    assert result.verdict == "undecided" and not result.ok
    assert result.note == "could not decide within 3 s (the time budget per answer)"


def test_answers_after_the_run_budget_is_spent_are_not_checked(we5):
    clock = Clock()
    shared = _shared(we5, clock)
    first = check_answer(we5, "w_AT", "A*delta_T", shared=shared)
    clock.now = budget.RUN_SECONDS   # the run's two minutes are over
    later = [check_answer(we5, "w_AT", a, shared=shared) for a in ("A*delta_T", "B*delta_T")]
    assert first.verdict == "correct"
    assert [(r.verdict, r.note) for r in later] == [
        ("undecided", "not checked: the check's time budget of 120 s was used up")] * 2


def test_a_wrong_answer_stays_wrong_when_its_diagnosis_is_cut_short(we5, monkeypatch):
    clock = Clock()
    diagnose = answers_module.diagnose

    def slow_diagnosis(*args):
        clock.now += budget.ANSWER_SECONDS + 1
        return diagnose(*args)

    monkeypatch.setattr(answers_module, "diagnose", slow_diagnosis)
    result = check_answer(we5, "w_TF", "(t_F - out_F)*out_F*(1 - out_F)*out_T", shared=_shared(we5, clock))
    assert result.verdict == "wrong" and result.comparison.counterexample is not None
    assert result.slips == [] and result.note == "cut short by the time budget"


def test_the_report_says_why_an_answer_is_undecided(we5, monkeypatch):
    from symbackprop.check import CheckReport

    monkeypatch.setattr(budget, "ANSWER_SECONDS", 3.0)
    result = check_answer(we5, "w_AT", "A*delta_T", shared=_shared(we5, Clock(step=1.0)))
    report = CheckReport(we5.spec, answers=[result], context=we5)
    assert "? dE/dw_AT   undecided: could not decide within 3 s (the time budget per answer)" in text_report(report)
    assert to_dict(report)["answers"][0]["note"] == "could not decide within 3 s (the time budget per answer)"
    assert to_dict(report)["answers"][0]["verdict"] == "undecided" and not report.ok


# --------------------------------------------------------------------------- a 1 MB hostile answer file

def _cpu_limit() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (90, 91))  # SIGXCPU, then SIGKILL: runaway work, not slowness


def _run(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=HANG, check=False,
                          preexec_fn=_cpu_limit)
    assert proc.returncode not in (-signal.SIGXCPU, -signal.SIGKILL), "more than 90 s of CPU time"
    return proc


def _hostile(tmp_path, count: int, answer) -> str:
    lines = ["answers:"] + [f"  - {{wrt: w_AT, answer: {json.dumps(answer(i))}}}" for i in range(count)]
    path = tmp_path / "hostile.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert 900_000 < path.stat().st_size <= answers_module.MAX_FILE_BYTES   # about 1 MB: the most a file may hold
    return str(path)


def test_a_1mb_file_of_1000_letter_runs_is_refused_at_once(tmp_path):
    path = _hostile(tmp_path, 1_000, lambda i: "$" + "A" * 940 + "$")
    proc = _run("-m", "symbackprop", "check", str(WE5), "--answer-file", path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (f"symbackprop: error: {path}: answers: too many answers (1000; an answer file may "
                           "hold at most 500)\n")


def _mixed(i: int) -> str:
    """Four hostile kinds, each within every limit, about 1,900 characters."""
    return ["$" + "AB" * 950 + "$",
            "\\sigma(" * 25 + "A" + ")" * 25 + " + " + "A" * 1_700,
            "A^{999} " + "B" * 1_900,
            "(" * 40 + "A" + ")" * 40 + "*" + "*".join(["out_T"] * 300)][i % 4]


@pytest.mark.slow
def test_a_1mb_file_of_500_hostile_answers_stops_at_the_run_budget(tmp_path):
    """With the run's budget spent from the start, every answer is read (bad input is still refused)
    and reported as not checked; the run ends with exit 1, never 'correct'."""
    path = _hostile(tmp_path, 500, _mixed)
    script = ("import sys; from symbackprop.check import budget; budget.RUN_SECONDS = 0.0; "
              "from symbackprop.cli import main; main(sys.argv[1:], prog_name='symbackprop')")
    proc = _run("-c", script, "check", str(WE5), "--answer-file", path, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    answers = json.loads(proc.stdout)["answers"]
    assert [(a["verdict"], a["note"]) for a in answers] == [
        ("undecided", "not checked: the check's time budget of 0 s was used up")] * 500


@pytest.mark.slow
def test_a_1mb_file_of_500_hostile_answers_finishes_within_its_budget(tmp_path):
    path = _hostile(tmp_path, 500, _mixed)
    proc = _run("-m", "symbackprop", "check", str(WE5), "--answer-file", path, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    answers = json.loads(proc.stdout)["answers"]
    assert len(answers) == 500 and {a["verdict"] for a in answers} == {"wrong"}

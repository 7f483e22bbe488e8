"""``symbackprop check``: exit status, the three formats, and one-line errors for bad input."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import EXAMPLES
from symbackprop.cli.check import check_command

WE5 = str(EXAMPLES / "we05-221-sigmoid.yaml")
RIGHT = "A*delta_F*w_TF*out_T*(1 - out_T)"
SIGN = "(t_F - out_F)*out_F*(1 - out_F)*out_T"


def invoke(*args: str):
    return CliRunner().invoke(check_command, list(args), prog_name="symbackprop check")


def command_line() -> list[str]:
    """``python -m symbackprop check`` once registered in cli.py; the command module until then."""
    from symbackprop.cli import main

    if "check" in getattr(main, "commands", {}):
        return [sys.executable, "-m", "symbackprop", "check"]
    return [sys.executable, "-c", "from symbackprop.cli.check import check_command; "
                                  "check_command(prog_name='symbackprop check')"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(command_line() + list(args), capture_output=True, text=True, cwd=cwd, timeout=120)


def test_all_right_exits_0_and_wrong_exits_1():
    ok = invoke(WE5, "--wrt", "w_AT", "--answer", RIGHT, "--wrt", "delta_T",
                "--answer", r"\delta_F w_{TF} \mathrm{out}_T (1 - \mathrm{out}_T)")
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.count("✓") == 2 and "everything is right" in ok.stdout
    wrong = invoke(WE5, "--wrt", "w_AT", "--answer", RIGHT, "--wrt", "w_TF", "--answer", SIGN)
    assert wrong.exit_code == 1
    lines = wrong.stdout.splitlines()
    assert any(line.startswith("  ✓ dE/dw_AT") for line in lines)
    assert any(line.startswith("  ✗ dE/dw_TF") for line in lines)
    assert "diagnosis: sign flipped — the error term of F has the wrong sign: t_F - out_F written for out_F - t_F" \
        in wrong.stdout
    assert "counterexample at the spec's values" in wrong.stdout


def test_lecture_solution_in_a_real_process():
    proc = run(str(EXAMPLES / "we06-221-sigmoid.yaml"), "--solution", str(EXAMPLES / "we06-lecture-answers.yaml"))
    assert proc.returncode == 1, proc.stderr
    assert "First real error: delta_T = -0.009" in proc.stdout
    assert "Likely cause: updated instead of old weights" in proc.stdout and "It also explains delta_Bo" in proc.stdout
    assert "✗ delta_T" in proc.stdout and "↳ w_BB_new" in proc.stdout


def test_json_format(tmp_path):
    out = tmp_path / "check.json"
    result = invoke(str(EXAMPLES / "we08-linear-regression.yaml"), "--solution",
                    str(EXAMPLES / "we08-lecture-answers.yaml"), "--wrt", "w1", "--answer", "(t_z - out_z)*x1",
                    "--format", "json", "-o", str(out))
    assert result.exit_code == 1 and f"wrote {out}" in result.stderr
    data = json.loads(out.read_text())
    assert data["ok"] is False and data["spec"] == "we08-linear-regression"
    (answer,) = data["answers"]
    assert answer["verdict"] == "wrong" and answer["slips"][0]["slip"] == "sign"
    assert set(answer["counterexample"]) == {"at_spec_values", "point", "used", "answer", "correct"}
    (solution,) = data["solutions"]
    assert solution["first_error"] == "dJ_dw1" and solution["likely_cause"]["slip"] == "sign"
    figures = {f["name"]: f for f in solution["figures"]}
    assert figures["w1_new"]["status"] == "correct" and figures["w1_new"]["follows_from_your_figures"] is False
    assert figures["dJ_dw1"]["written"] == "-1" and figures["dJ_dw1"]["correct_value"] == 1.0


def test_answer_file_with_answers_and_a_solution(tmp_path):
    f = tmp_path / "sheet.yaml"
    f.write_text(
        "title: Sheet 3\n"
        "answers:\n"
        "  w_AT: 'A*delta_T'\n"
        "  delta_T: '\\delta_F w_{TF} \\mathrm{out}_T (1 - \\mathrm{out}_T)'\n"
        "solution:\n"
        "  out_T: 0.680\n"
        "  delta_F: 0.0407\n")
    result = invoke(WE5, "--answer-file", str(f), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [a["verdict"] for a in data["answers"]] == ["correct", "correct"]
    assert data["solutions"][0]["counts"] == {"correct": 2, "carried_forward": 0, "insufficient_precision": 0,
                                               "wrong": 0}


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_latex_feedback_compiles_and_escapes_student_text(tmp_path):
    f = tmp_path / "sheet.yaml"
    f.write_text("title: '\\input{/etc/passwd} 50% & $x_1$'\nsolution:\n  delta_T: 0.0024\n  out_T: 0.68\n")
    out = tmp_path / "feedback.tex"
    result = invoke(WE5, "--answer-file", str(f), "--wrt", "w_TF", "--answer", SIGN, "--format", "latex",
                    "-o", str(out))
    assert result.exit_code == 1, result.output
    tex = out.read_text()
    assert r"\textbackslash{}input\{/etc/passwd\}" in tex and r"50\%" in tex
    assert "feedback begins" in tex and "feedback ends" in tex
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
                           out.name], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "root:" not in (tmp_path / "feedback.log").read_text()


BAD = {
    "missing spec": (["nope.yaml", "--wrt", "w_AT", "--answer", "A"], "nope.yaml: no such file"),
    "unpaired": ([WE5, "--wrt", "w_AT"], "give one --wrt for each --answer"),
    "nothing": ([WE5], "nothing to check"),
    "unknown wrt": ([WE5, "--wrt", "w_XY", "--answer", "A"], "--answer: 'w_XY' is not something"),
    "unknown option": ([WE5, "--bogus"], "No such option '--bogus'"),
    "bad format": ([WE5, "--format", "pdf", "--wrt", "w_AT", "--answer", "A"], "Invalid value for '--format'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_exits_2_with_one_line(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args, message = BAD[case]
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("symbackprop: error: ") and message in lines[0], lines
    assert result.stdout == "" and not (tmp_path / "CANARY").exists()


FILES = {
    "duplicate key": ("answers:\n  w_AT: A\n  w_AT: B\n", "duplicate key 'w_AT'"),
    "yaml syntax": ("answers: [w_AT\n", "YAML syntax error"),
    "unknown key": ("answer: {w_AT: A}\n", "answer: unknown key"),
    "not text": ("answers:\n  w_AT: [1, 2]\n", "answers.w_AT: must be text"),
    "bad answer": ("answers:\n  w_AT: 'A +* B'\n", "answers.w_AT: syntax error"),
    "bad figure": ("solution:\n  out_Q: 0.5\n", "solution.out_Q: 'out_Q' is not a figure"),
    "bad number": ("solution:\n  out_T: abc\n", "solution.out_T: must be a number as written"),
    "empty": ("", "the file is empty"),
}


@pytest.mark.parametrize("case", sorted(FILES))
def test_bad_answer_files_exit_2_naming_file_and_key(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text, message = FILES[case]
    f = tmp_path / "answers.yaml"
    f.write_text(text)
    out = tmp_path / "out.txt"
    result = invoke(WE5, "--answer-file", str(f), "-o", str(out))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"symbackprop: error: {f}: ") and message in lines[0], lines
    assert not out.exists() and not (tmp_path / "CANARY").exists()


def test_solution_option_needs_a_solution(tmp_path):
    f = tmp_path / "a.yaml"
    f.write_text("answers:\n  w_AT: A*delta_T\n")
    result = invoke(WE5, "--solution", str(f))
    assert result.exit_code == 2 and "no 'solution:' in this file" in result.stderr


SHARED_VARIANT = """\
name: shared-variant
inputs: [x]
neurons:
  h: {from: {x: w}, activation: sigmoid}
  o: {from: {h: w}, activation: sigmoid}
outputs: [o]
loss: half_sse
learning_rate: 0.5
backprop_weights: updated
values: {inputs: {x: 0.5}, params: {w: 0.3}, targets: {o: 1}}
"""


def test_a_lecture_variant_that_is_undefined_is_still_checked_against_the_true_gradient(tmp_path):
    """One weight used upstream of where the variant would update it: the variant is undefined, but
    the checker grades against the true gradient (for a shared w: δ_h·x + δ_o·out_h) as before."""
    spec = tmp_path / "shared.yaml"
    spec.write_text(SHARED_VARIANT)
    result = invoke(str(spec), "--wrt", "w", "--answer", "delta_h*x + delta_o*out_h")
    assert result.exit_code == 0, result.output
    wrong = invoke(str(spec), "--wrt", "w", "--answer", "delta_o*out_h")   # the last use only
    assert wrong.exit_code == 1

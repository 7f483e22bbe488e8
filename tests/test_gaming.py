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
    with pytest.raises(SpecError) as info:
        check_answer(we5, wrt, answer)
    assert str(info.value) == f"answer: circular answer: the answer for {wrt} {offending}"


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
    with pytest.raises(SpecError, match=f"may not use {hidden}, which is defined through {output}"):
        check_answer(ctx, output, f"{hidden} + 1")


def test_the_command_refuses_with_one_line_and_exit_2():
    proc = subprocess.run([sys.executable, "-m", "symbackprop", "check", str(WE5), "--wrt", "delta_T",
                           "--answer", "delta_T"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == ("symbackprop: error: --answer: circular answer: the answer for delta_T may not use "
                           "delta_T itself\n")

"""Verify hand derivations: check a symbolic answer, diagnose the slip, grade a worked solution.

>>> from symbackprop import derive, load_spec
>>> from symbackprop.check import AnswerInput, run_check
>>> report = run_check(derive(load_spec("examples/we05-221-sigmoid.yaml")),
...                    answers=[AnswerInput("w_TF", "(t_F - out_F)*out_F*(1 - out_F)*out_T")])
>>> answer = report.answers[0]
>>> answer.verdict, [slip.key for slip in answer.slips]
('wrong', ['sign'])

Modules: :mod:`.answers` (reading and checking answers, answer files), :mod:`.latex`
(LaTeX → plain text), :mod:`.equivalence` (symbolic + numeric comparison),
:mod:`.slips` (the slip catalogue), :mod:`.solution` (worked solutions with error carried
forward), :mod:`.report` (text, JSON, LaTeX), :mod:`symbackprop.cli.check` (``symbackprop check``).
"""
from .answers import (
           AnswerResult,
           SlipMatch,
           check_answer,
           parse_answer,
           read_answer_file,
)
from .checker import AnswerInput, CheckReport, SolutionInput, run_check
from .context import CheckContext, Target
from .slips import SLIPS, Change, Slip
from . import slips_shapes  # noqa: F401,E402  (registers the residual, softmax and batch-norm slips)
from .solution import Figure, SolutionResult, Worksheet, grade_solution

__all__ = ["run_check", "AnswerInput", "SolutionInput", "CheckReport", "CheckContext", "Target",
           "check_answer", "parse_answer", "read_answer_file", "AnswerResult", "SlipMatch", "SLIPS", "Slip",
           "Change", "grade_solution", "Worksheet", "Figure", "SolutionResult"]

"""One check of a spec: symbolic answers and/or a worked solution, collected in a :class:`CheckReport`.

>>> from symbackprop import derive, load_spec
>>> report = run_check(derive(load_spec("examples/we05-221-sigmoid.yaml")),
...                    answers=[AnswerInput("w_AT", "A*delta_F*w_TF*out_T*(1 - out_T)")])
>>> report.answers[0].verdict, report.ok
('correct', True)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from ..derive import Derivation
from ..errors import SpecError
from ..spec import Spec
from ..spec.marking import DEFAULT, MarkingPolicy
from .answers import DEFAULT_POINTS, AnswerResult, SharedPoints, check_answer
from .context import CheckContext
from .policy import AppliedPolicy
from .solution import SolutionResult, Worksheet, grade_solution

VARIANT_NOTE = ("The spec asks for the lecture's variant (backprop_weights: updated), which is not the "
                "gradient; answers are checked against the true gradient (old weights).")


@dataclass(frozen=True)
class AnswerInput:
    """One answer to check: for ``wrt``, the ``text``, its syntax, and where it came from (for errors)."""

    wrt: str
    text: str
    syntax: str = "auto"
    where: str = "answer"
    file: str | None = None


@dataclass(frozen=True)
class SolutionInput:
    """A worked solution to grade: ``entries`` are (name, value as written, where) in order."""

    file: str
    entries: tuple
    title: str = ""


@dataclass
class CheckReport:
    """Everything one ``symbackprop check`` found."""

    spec: Spec
    answers: list[AnswerResult] = field(default_factory=list)
    solutions: list[SolutionResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    context: CheckContext | None = None
    policy: MarkingPolicy = DEFAULT
    seed: int = 0                  # of the random test points: --seed repeats the check exactly

    @property
    def ok(self) -> bool:
        """True when every answer is correct and every figure right (exit status 0)."""
        return all(a.ok for a in self.answers) and all(s.ok for s in self.solutions)


class SolutionGrader:
    """Worked solutions graded against one derivation, the checker's context and worksheet made
    once (``symbackprop grade`` grades every submission of a variant with one of these).

    >>> from symbackprop import derive, load_spec
    >>> grader = SolutionGrader(derive(load_spec("examples/we05-221-sigmoid.yaml")))
    >>> [f.status for f in grader.grade(SolutionInput("s.yaml", (("out_T", "0.68", "solution.out_T"),))).figures]
    ['correct']
    """

    def __init__(self, derivation: Derivation, policy: MarkingPolicy | None = None,
                 ctx: CheckContext | None = None, needs_worksheet: bool = True):
        self.ctx = ctx or CheckContext(derivation)
        self.policy = policy or derivation.spec.marking or DEFAULT
        self.worksheet = None
        if needs_worksheet:
            try:
                self.worksheet = Worksheet(self.ctx)
            except SpecError as exc:
                raise exc.located(derivation.spec.file) from None
        try:
            self.applied = AppliedPolicy(self.ctx, self.policy, self.worksheet)
        except SpecError as exc:
            raise exc.located(derivation.spec.file) from None

    def grade(self, s: SolutionInput) -> SolutionResult:
        """Grade one worked solution (a SpecError located by its file for bad input)."""
        try:
            return grade_solution(self.ctx, s.entries, file=s.file, title=s.title, worksheet=self.worksheet,
                                  default=self.policy.tolerance, rule_for=self.applied.tolerance)
        except SpecError as exc:
            raise exc.located(s.file) from None


def run_check(derivation: Derivation, *, answers: Sequence[AnswerInput] = (), solutions: Sequence[SolutionInput] = (),
              points: int = DEFAULT_POINTS, seed: int = 0, policy: MarkingPolicy | None = None) -> CheckReport:
    """Check ``answers`` and grade ``solutions`` against the derivation of a spec.

    ``policy`` is the instructor's marking policy (default: the spec's ``marking:``, else the
    defaults of :mod:`symbackprop.spec.marking`). Raises :class:`SpecError`, located by the
    file the bad input came from, for bad input.
    """
    policy = policy or derivation.spec.marking or DEFAULT
    grader = SolutionGrader(derivation, policy,
                            needs_worksheet=bool(solutions) or bool(policy.questions and derivation.spec.has_values))
    ctx, applied = grader.ctx, grader.applied
    report = CheckReport(derivation.spec, context=ctx, policy=policy, seed=seed)
    if ctx.variant_requested:
        report.notes.append(VARIANT_NOTE)
    if ctx.one_hot_condition and answers:
        report.notes.append("Test points give each example's targets a sum of 1, the condition under which "
                            "softmax with cross-entropy has δ_k = out_k − t_k.")
    shared = SharedPoints(ctx, points, seed)
    for a in answers:
        try:
            report.answers.append(check_answer(ctx, a.wrt, a.text, syntax=a.syntax, where=a.where, shared=shared,
                                               vocabulary=applied.vocabulary))
        except SpecError as exc:
            raise (exc.located(a.file) if a.file else exc) from None
    for s in solutions:
        report.solutions.append(grader.grade(s))
    return report

"""The stress test of an exam (``symbackprop exam SPEC --stress N``), after R/exams' ``stresstest_exercise``.

Draws ``N`` variants with every rule tried on every attempt, then reports how often each rule
fired, the range of every answer, how many answers sit near a rounding boundary (within a
twentieth of a unit of the last shown digit from the midpoint where rounding flips: a student
who rounds an intermediate figure may then give the neighbouring value), and how many kept
variants fail a rule when derived again from the manifest (the audit; it must be 0).

>>> from symbackprop import load_spec
>>> r = stress(load_spec("examples/we05-221-sigmoid.yaml"), 5, seed=0)
>>> r.kept, r.audit_failures, r.fired["kink"]
(5, 0, 0)
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from ..derive import derive
from ..spec import Spec
from .figures import half_unit
from .manifest import build_manifest, variant_spec
from .randomize import draw_plan
from .rules import RULES, Candidate, rejections
from .variants import DrawLog, asked_of, draw_variants

NEAR = 0.05
"""How near (in units of the last shown digit) the rounding midpoint counts as near."""


def near_boundary(value: float, sig: int) -> bool:
    """Whether rounding ``value`` to ``sig`` figures is within :data:`NEAR` of flipping.

    >>> near_boundary(0.12349, 3), near_boundary(0.1234, 3), near_boundary(0.1, 3)
    (True, False, False)
    """
    if value == 0 or not math.isfinite(value):
        return False
    unit = 2 * half_unit(value, sig)
    frac = (abs(value) / unit) % 1.0
    return abs(frac - 0.5) < NEAR


@dataclass
class AnswerRange:
    """One answer over the kept variants: its question, least and greatest value, and how many near a boundary."""

    question: str
    low: float = math.inf
    high: float = -math.inf
    near: int = 0


@dataclass
class StressReport:
    """What :func:`stress` found."""

    name: str
    requested: int
    seed: int
    sig: int
    attempts: int = 0
    kept: int = 0
    fired: Counter = field(default_factory=Counter)
    answers: dict[str, AnswerRange] = field(default_factory=dict)
    audit_failures: int = 0
    plan_rows: list[tuple[str, str]] = field(default_factory=list)
    allowed: tuple[str, ...] = ()

    def markdown(self) -> str:
        """The report as Markdown tables (what the command prints)."""
        lines = [f"# Stress test of {self.name}: {self.kept} variants kept of {self.attempts} attempts "
                 f"(seed {self.seed}, {self.sig} significant figures)", ""]
        lines += [f"- {what}: {how}" for what, how in self.plan_rows] + [""]
        lines += ["| rule | fired | of attempts | rejects |", "| --- | ---: | ---: | --- |"]
        for rule in RULES.values():
            n = self.fired.get(rule.name, 0)
            state = " (allowed)" if rule.name in self.allowed else ""
            lines.append(f"| {rule.name}{state} | {n} | {100 * n / max(1, self.attempts):.1f} % | {rule.words} |")
        lines += ["", f"Kept variants that fail a rule when derived again from the manifest: "
                      f"**{self.audit_failures}**.", "",
                  "| answer | question | min | max | near a rounding boundary |", "| --- | --- | ---: | ---: | ---: |"]
        for name, a in self.answers.items():
            lines.append(f"| {name} | {a.question} | {a.low:.6g} | {a.high:.6g} | {a.near} |")
        return "\n".join(lines) + "\n"


def stress(spec: Spec, count: int, seed: int = 0, *, questions: str | Iterable[str] | None = None,
           sig: int = 3, method: str = "backprop") -> StressReport:
    """Draw ``count`` variants of ``spec`` and report on them (see the module docstring)."""
    plan = draw_plan(spec, tuple(RULES))
    log = DrawLog(every=True)
    variants = draw_variants(spec, count, seed, questions=questions, sig=sig, method=method, log=log, plan=plan)
    report = StressReport(spec.name, count, seed, sig, attempts=log.attempts, kept=len(variants),
                          fired=log.fired, plan_rows=plan.rows(), allowed=tuple(sorted(plan.allow)))
    manifest = build_manifest(spec, variants, seed=seed, questions=questions, sig=sig)
    for entry, v in zip(manifest["variants"], variants):
        for name, a in entry["answers"].items():
            r = report.answers.setdefault(name, AnswerRange(a["question"]))
            r.low, r.high = min(r.low, a["value"]), max(r.high, a["value"])
            r.near += near_boundary(a["value"], sig)
        again = derive(variant_spec(manifest, entry), method)
        params, asks_step = asked_of(again, questions)
        failed = rejections(Candidate(again, v.drawn, v.targets, params, asks_step, sig), plan.allow)
        report.audit_failures += bool(failed)
    return report

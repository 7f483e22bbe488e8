"""Marks from the checker's verdicts: a question's marks shared equally by its figures, each figure's credit by a :class:`Scheme`.

A figure's credit is

* 1 when it is right (``correct``);
* by ``ecf`` when it is wrong but follows from the student's own earlier figures
  (``carried_forward``): ``full`` 1, ``half`` ½, ``none`` 0;
* 1 − the ``precision`` penalty when it is a true rounding to fewer digits than asked
  (``insufficient_precision``, default penalty ½);
* 1 − the penalty of its slip when it is wrong with a named slip (default penalty 1: no credit;
  ``--penalty sign=0.5`` gives half credit for a sign slip), else 0;
* 0 when missing or unreadable.

>>> s = Scheme.parse("half", ["sign=0.25"])
>>> s.credit("carried_forward", None), s.credit("wrong", "sign"), s.credit("wrong", "chain"), s.credit("correct", None)
(0.5, 0.75, 0.0, 1.0)
>>> Scheme.parse("full", ["nonsense=1"])
Traceback (most recent call last):
...
symbackprop.errors.SpecError: --penalty: unknown slip 'nonsense' (known: precision, and the slips of symbackprop check; see docs/commands/grade.md)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from ..check.slips import SLIPS
from ..errors import SpecError

ECF = {"full": 1.0, "half": 0.5, "none": 0.0}
PRECISION = "precision"
DEFAULT_PENALTIES = {PRECISION: 0.5}


@dataclass(frozen=True)
class Scheme:
    """Partial-credit rules: error carried forward and a penalty (0–1) per slip kind."""

    ecf: str = "full"
    penalties: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_PENALTIES))

    @classmethod
    def parse(cls, ecf: str, penalties: Iterable[str] = ()) -> "Scheme":
        """From ``--ecf`` and ``--penalty KIND=F`` texts (SpecError naming the bad one)."""
        if ecf not in ECF:
            raise SpecError(f"must be one of {', '.join(ECF)}", key="--ecf")
        out = dict(DEFAULT_PENALTIES)
        for item in penalties:
            kind, eq, value = item.partition("=")
            kind = kind.strip()
            if kind != PRECISION and kind not in SLIPS:
                raise SpecError(f"unknown slip '{kind[:40]}' (known: {PRECISION}, and the slips of symbackprop check; "
                                "see docs/commands/grade.md)", key="--penalty")
            try:
                number = float(value)
            except ValueError:
                number = -1.0
            if not eq or not 0.0 <= number <= 1.0:
                raise SpecError(f"'{item[:40]}' is not KIND=F with F from 0 to 1", key="--penalty")
            out[kind] = number
        return cls(ecf, out)

    def credit(self, status: str, slip: str | None) -> float:
        """The share of a figure's marks that ``status`` (and its likely ``slip``) earns."""
        if status == "correct":
            return 1.0
        if status == "carried_forward":
            return ECF[self.ecf]
        if status == "insufficient_precision":
            return 1.0 - self.penalties.get(PRECISION, 1.0)
        if status == "wrong" and slip is not None:
            return 1.0 - self.penalties.get(slip, 1.0)
        return 0.0

    def as_dict(self) -> dict:
        """What a result depends on (part of its content hash), JSON-ready."""
        return {"ecf": self.ecf, "penalties": dict(sorted(self.penalties.items()))}


def question_marks(figures: list[dict], questions: list[Mapping]) -> list[dict]:
    """Per question: ``marks`` earned (the figures' ``marks``) and ``out_of`` (the manifest's)."""
    out = []
    for q in questions:
        earned = sum(f["marks"] for f in figures if f["question"] == q["name"])
        out.append({"name": q["name"], "title": q["title"], "marks": round(earned, 6), "out_of": float(q["marks"])})
    return out

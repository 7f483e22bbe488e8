"""The instructor's marking policy: how precise a worked figure must be, and which symbols an answer may use.

A spec may carry it under ``marking:`` (the answer file never can: it is the student's)::

    marking:
      tolerance:                  # every figure (defaults shown in MarkingPolicy.DEFAULT)
        significant_figures: 2    # at least this many, and right to within half a unit of the last
        decimals: 3               # or: at least this many decimal places (±0.0005)
        relative: 0.005           # at most 0.5 % of the exact value
        absolute: 1e-4            # at most this
      vocabulary: with_deltas     # with_deltas (the lecture's), without_deltas, givens_only
      questions:                  # per answer or figure, by the name it is checked under
        delta_T: {vocabulary: without_deltas}
        dE_dw_AT: {tolerance: {significant_figures: 3}}

Each rule caps the tolerance; the stated precision of the figure caps it too — the tighter
one applies, so writing fewer digits (or an exponent) never widens it.

>>> policy = marking_from_mapping({"tolerance": {"decimals": 3}, "questions": {"delta_T": {"vocabulary": "givens_only"}}})
>>> policy.tolerance_for("out_T").decimals, policy.vocabulary_for("delta_T"), policy.vocabulary_for("w_AT")
(3, 'givens_only', 'with_deltas')
>>> policy.tolerance_for("out_T").significant_figures   # not given: no longer required
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from ..errors import SpecError
from .fields import key_text, refuse_unknown_keys

VOCABULARIES = {
    "with_deltas": "the lecture's symbols: inputs, weights, targets, nets, outs and the δs of later layers",
    "without_deltas": "inputs, weights, targets, nets and outs, without any δ",
    "givens_only": "the given quantities only: inputs, weights and targets (fully expanded)",
}
TOLERANCE_KEYS = {"significant_figures", "decimals", "relative", "absolute"}
MAX_DIGITS = 15


@dataclass(frozen=True)
class Tolerance:
    """The instructor's caps on a figure's tolerance; ``None`` leaves a rule out.

    >>> Tolerance(significant_figures=2).describe()
    'at least 2 significant figures, right to half a unit in the last'
    >>> Tolerance(significant_figures=None, relative=0.005, absolute=1e-4).describe()
    'within 0.5 % and within 0.0001 of the exact value'
    """

    significant_figures: int | None = 2
    decimals: int | None = None
    relative: float | None = None
    absolute: float | None = None

    def describe(self) -> str:
        """The rule in words, as feedback prints it."""
        parts = []
        if self.significant_figures is not None:
            parts.append(f"at least {self.significant_figures} significant figure"
                         f"{'s' if self.significant_figures != 1 else ''}, right to half a unit in the last")
        if self.decimals is not None:
            parts.append(f"at least {self.decimals} decimal place{'s' if self.decimals != 1 else ''}, "
                         "right to half a unit in the last")
        within = []
        if self.relative is not None:
            within.append(f"within {self.relative * 100:g} %")
        if self.absolute is not None:
            within.append(f"within {self.absolute:g}")
        if within:
            parts.append(" and ".join(within) + " of the exact value")
        return "; ".join(parts) if parts else "right to half a unit in the last written digit"


@dataclass(frozen=True)
class MarkingPolicy:
    """The policy for a whole check: defaults, and overrides per question (answer or figure name)."""

    tolerance: Tolerance = Tolerance()
    vocabulary: str = "with_deltas"
    questions: Mapping[str, tuple[Tolerance | None, str | None]] = field(default_factory=dict)

    def tolerance_for(self, name: str) -> Tolerance:
        own = self.questions.get(name, (None, None))[0]
        return own if own is not None else self.tolerance

    def vocabulary_for(self, name: str) -> str:
        own = self.questions.get(name, (None, None))[1]
        return own if own is not None else self.vocabulary

    def overridden(self, *, tolerance: Mapping[str, Any] | None = None, vocabulary: str | None = None
                   ) -> MarkingPolicy:
        """This policy with command-line settings on top (they replace the defaults, not the questions' own)."""
        out = self
        if tolerance:
            out = replace(out, tolerance=replace(out.tolerance, **tolerance))
        if vocabulary is not None:
            out = replace(out, vocabulary=vocabulary)
        return out


DEFAULT = MarkingPolicy()


def tolerance_from_mapping(raw: Any, key: str) -> Tolerance:
    """A ``tolerance:`` block; rules not given are left out (a given block replaces the default)."""
    if not isinstance(raw, dict) or not raw:
        raise SpecError("must be a mapping, e.g. {significant_figures: 3}", key=key)
    refuse_unknown_keys(raw, TOLERANCE_KEYS, key)
    values: dict[str, Any] = {}
    for k in ("significant_figures", "decimals"):
        if k in raw:
            v = raw[k]
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_DIGITS:
                raise SpecError(f"must be a whole number from 0 to {MAX_DIGITS}", key=f"{key}.{k}")
            values[k] = v
    for k in ("relative", "absolute"):
        if k in raw:
            v = raw[k]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0 \
                    or (k == "relative" and v >= 1):
                limit = "between 0 and 1 (0.005 is 0.5 %)" if k == "relative" else "a positive number"
                raise SpecError(f"must be {limit}", key=f"{key}.{k}")
            values[k] = float(v)
    if "significant_figures" in values and values["significant_figures"] == 0:
        raise SpecError("must be at least 1", key=f"{key}.significant_figures")
    return Tolerance(**{k: values.get(k) for k in TOLERANCE_KEYS})


def vocabulary_from_value(raw: Any, key: str) -> str:
    if raw not in VOCABULARIES:
        raise SpecError(f"must be one of {', '.join(VOCABULARIES)}", key=key)
    return raw


def marking_from_mapping(raw: Any, key: str = "marking") -> MarkingPolicy:
    """Validate a spec's ``marking:`` block into a :class:`MarkingPolicy`."""
    if not isinstance(raw, dict):
        raise SpecError("must be a mapping with tolerance, vocabulary and/or questions", key=key)
    refuse_unknown_keys(raw, {"tolerance", "vocabulary", "questions"}, key)
    tolerance = tolerance_from_mapping(raw["tolerance"], f"{key}.tolerance") if "tolerance" in raw \
        else DEFAULT.tolerance
    vocabulary = vocabulary_from_value(raw["vocabulary"], f"{key}.vocabulary") if "vocabulary" in raw \
        else DEFAULT.vocabulary
    questions: dict[str, tuple[Tolerance | None, str | None]] = {}
    raw_questions = raw.get("questions", {})
    if not isinstance(raw_questions, dict):
        raise SpecError("must be a mapping name → {tolerance, vocabulary}", key=f"{key}.questions")
    for name, body in raw_questions.items():
        where = f"{key}.questions.{key_text(name)}"
        if not isinstance(name, str) or not isinstance(body, dict) or not body:
            raise SpecError("must be a mapping with tolerance and/or vocabulary", key=where)
        refuse_unknown_keys(body, {"tolerance", "vocabulary"}, where)
        questions[name] = (
            tolerance_from_mapping(body["tolerance"], f"{where}.tolerance") if "tolerance" in body else None,
            vocabulary_from_value(body["vocabulary"], f"{where}.vocabulary") if "vocabulary" in body else None)
    return MarkingPolicy(tolerance, vocabulary, questions)

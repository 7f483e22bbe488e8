r"""Moodle's Cloze (embedded answers) syntax for numerical parts: written, and parsed back.

A part is ``{weight:NUMERICAL:=value:tolerance#feedback}``; further answers follow ``~`` and
may carry partial credit ``%50%`` instead of ``=``. Inside feedback, ``}``, ``#``, ``~``,
``/``, ``"`` and ``\`` are escaped with a backslash (Moodle's rule). :func:`parse_cloze` reads
every part of a question text back, so a test holds the exported value, tolerance and weight
to the manifest's.

>>> part = numerical_part(0.7550000001, 0.0005, 3, feedback="net_T")
>>> part
'{3:NUMERICAL:=0.7550000001:0.0005#net_T}'
>>> [(p.weight, p.answers[0].value, p.answers[0].tolerance) for p in parse_cloze("a " + part + " b")]
[(3, 0.7550000001, 0.0005)]
>>> parse_cloze("{1:NM:%50%2:0.1~=2.5:0.01#right \\} brace}")[0].answers[1]
ClozeAnswer(fraction=100.0, value=2.5, tolerance=0.01, feedback='right } brace')
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

NUMERICAL_TYPES = {"NUMERICAL", "NM"}
_ESCAPED = "}#~/\"\\"
# Moodle's own NUMBER_REGEX (question/type/multianswer): a comma may stand for the decimal point.
_NUMBER = re.compile(r"-?(?:[0-9]+[.,]?[0-9]*|[.,][0-9]+)(?:[eE][-+]?[0-9]+)?$")


class ClozeError(ValueError):
    """A Cloze part that does not parse (the message names the part)."""


@dataclass(frozen=True)
class ClozeAnswer:
    """One answer of a part: credit in percent, the value, its ± tolerance, feedback."""

    fraction: float
    value: float
    tolerance: float
    feedback: str


@dataclass(frozen=True)
class ClozePart:
    """One embedded numerical part: its weight (marks) and answers, and where it stood."""

    weight: int
    kind: str
    answers: tuple[ClozeAnswer, ...]
    start: int
    end: int


def number_text(value: float) -> str:
    """The shortest text that reads back as exactly ``value`` (``repr``), never an exponent-less ``inf``."""
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value}")
    text = repr(float(value))
    return "0" if text in ("0.0", "-0.0") else text


def escape_feedback(text: str) -> str:
    r"""Feedback text safe inside a part (``}`` → ``\}`` and so on)."""
    return "".join("\\" + ch if ch in _ESCAPED else ch for ch in text)


def numerical_part(value: float, tolerance: float, weight: int, *, feedback: str = "") -> str:
    """One ``{weight:NUMERICAL:=value:tolerance#feedback}`` part (full credit for value ± tolerance)."""
    if weight < 1:
        raise ValueError("a Cloze weight is a positive integer")
    fb = f"#{escape_feedback(feedback)}" if feedback else ""
    return f"{{{weight}:NUMERICAL:={number_text(value)}:{number_text(tolerance)}{fb}}}"


def _split(body: str, sep: str) -> list[str]:
    """Split at unescaped ``sep``."""
    out, current, i = [], [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            current.append(body[i:i + 2])
            i += 2
            continue
        if body[i] == sep:
            out.append("".join(current))
            current = []
        else:
            current.append(body[i])
        i += 1
    out.append("".join(current))
    return out


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _answer(text: str, where: str) -> ClozeAnswer:
    head, *rest = _split(text, "#")
    feedback = _unescape("#".join(rest)) if rest else ""
    if head.startswith("="):
        fraction, head = 100.0, head[1:]
    elif head.startswith("%"):
        m = re.match(r"%(-?\d+(?:[.,]\d*)?)%", head)
        if not m:
            raise ClozeError(f"{where}: bad credit in {text!r}")
        fraction, head = float(m.group(1).replace(",", ".")), head[m.end():]
    else:
        fraction = 0.0
    value_text, _, tolerance_text = head.partition(":")
    if not _NUMBER.match(value_text) or (tolerance_text and not _NUMBER.match(tolerance_text)):
        raise ClozeError(f"{where}: not a number with a tolerance as Moodle reads them: {head!r}")
    return ClozeAnswer(fraction, float(value_text.replace(",", ".")),
                       float(tolerance_text.replace(",", ".") or 0), feedback)


def parse_cloze(text: str) -> list[ClozePart]:
    """Every ``{…:NUMERICAL:…}`` (or ``NM``) part of a question text, in order.

    Braces that do not open a part (``{`` not followed by ``digits:TYPE:``) are left alone;
    a part that opens but does not parse raises :class:`ClozeError`.
    """
    parts = []
    for m in re.finditer(r"\{(\d*):([A-Z_]+):", text):
        kind = m.group(2)
        if kind not in NUMERICAL_TYPES:
            continue
        i, body = m.end(), []
        while i < len(text) and text[i] != "}":
            if text[i] == "\\" and i + 1 < len(text):
                body.append(text[i:i + 2])
                i += 2
                continue
            body.append(text[i])
            i += 1
        if i >= len(text):
            raise ClozeError(f"part at {m.start()}: no closing brace")
        where = f"part at {m.start()}"
        answers = tuple(_answer(a, where) for a in _split("".join(body), "~"))
        if not any(a.fraction == 100.0 for a in answers):
            raise ClozeError(f"{where}: no answer gives full credit")
        parts.append(ClozePart(int(m.group(1) or 1), kind, answers, m.start(), i + 1))
    return parts

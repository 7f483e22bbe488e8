r"""The exam as every exporter reads it: the variant manifest, and per variant its Derivation,
asked figures (value, tolerance, marks share), network picture, problem and worked solution.

Numbers come from the manifest (the answers) and the variant's Derivation (the worked
solution, derived again from ``variant_spec``); nothing here computes a figure of its own.

Answer names are written in TeX by :func:`symbackprop.latex.figure_tex`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from fractions import Fraction
from math import lcm
from pathlib import Path
from typing import Any, Mapping

from ..derive import Derivation, derive
from ..errors import SpecError
from ..exams.manifest import load_manifest, validate_manifest, variant_spec
from ..latex import figure_tex
from ..render.exam import exam_contexts
from .html import problem_html, solution_html
from .svg import picture_svg

SOLUTION_DIGITS = 6          # decimals of the worked solution's figures (the key has the manifest's sig)
MAX_VARIANTS = 1000
ANSWER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,79}")


@dataclass(frozen=True)
class Figure:
    """One asked figure of a variant: the name a worked solution uses, its TeX, the manifest's
    value, shown figure and absolute tolerance, and its integer weight (the question's marks
    shared among its figures, scaled so every weight of the exam is a whole number)."""

    name: str
    tex: str
    value: float
    shown: str
    tolerance: float
    weight: int
    marks: float          # the figure's share of its question's marks


@dataclass(frozen=True)
class Part:
    """One question of a variant with the figures it asks."""

    name: str
    title: str
    marks: float
    figures: tuple[Figure, ...]


@dataclass(frozen=True)
class ExamVariant:
    """One variant: its number and ID, Derivation, questions, and the pictures and texts shown."""

    number: int
    id: str
    derivation: Derivation
    parts: tuple[Part, ...]
    svg: str
    problem: str            # HTML: the network, given values and what to compute
    solution: str           # HTML: the worked solution, TeX between \( \) and \[ \]

    @property
    def figures(self) -> list[Figure]:
        return [f for p in self.parts for f in p.figures]


@dataclass(frozen=True)
class Exam:
    """Everything the exporters write."""

    manifest: dict
    name: str
    title: str
    seed: int
    sig: int
    variants: tuple[ExamVariant, ...]

    @property
    def label(self) -> str:
        """``<title> (seed s)``: the category, bank and topic name on every platform."""
        return f"{self.title} (seed {self.seed})"


def _weights(questions: list[dict]) -> dict[str, tuple[int, Fraction]]:
    """Per question: the integer weight of each of its figures, and their share of the marks."""
    shares = {q["name"]: Fraction(str(q["marks"])) / len(q["answers"]) for q in questions if q["answers"]}
    scale = lcm(*(s.denominator for s in shares.values())) if shares else 1
    return {name: (int(share * scale), share) for name, share in shares.items()}


def _manifest(source: str | Path | Mapping[str, Any]) -> dict:
    if isinstance(source, Mapping):
        # a private copy, as the file would hold it (sorted keys: the same exam as from the file)
        return validate_manifest(json.loads(json.dumps(source, sort_keys=True)))
    return load_manifest(source)


def load_exam(source: str | Path | Mapping[str, Any]) -> Exam:
    """The exam of a manifest file (validated by ``load_manifest``) or of a manifest mapping.

    Raises :class:`SpecError` naming the key when an asked figure is missing or malformed.
    """
    manifest = _manifest(source)
    questions, variants = manifest["questions"], manifest["variants"]
    name = manifest["spec_name"]
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,80}", name):
        raise SpecError("a spec name is letters, digits, '_', '.' or '-' (it names files)", key="spec_name")
    if not any(q["answers"] for q in questions):
        raise SpecError("the manifest asks no figure", key="questions")
    if len(variants) > MAX_VARIANTS:
        raise SpecError(f"more than {MAX_VARIANTS} variants", key="variants")
    for i, q in enumerate(questions):
        if q["answers"] and q["marks"] <= 0:
            raise SpecError("a question exported to a learning platform needs marks above 0",
                            key=f"questions[{i}].marks")
    weights = _weights(questions)
    sig = manifest["sig"]
    out = []
    for i, variant in enumerate(variants):
        d = derive(variant_spec(manifest, variant), strict_variant=False)
        loss = str(d.network.graph.nodes[d.network.root]["symbol"])
        params = set(d.spec.parameters)
        answers = variant["answers"]
        parts = []
        for q in questions:
            if q["name"] not in weights:
                continue
            weight, share = weights[q["name"]]
            figures = []
            for answer in q["answers"]:
                where = f"variants[{i}].answers.{answer[:40]}"
                if not ANSWER_NAME.fullmatch(answer):
                    raise SpecError("an answer name is letters, digits and '_' (as a worked solution names it)",
                                    key=where)
                if answer not in answers:
                    raise SpecError("missing: the question asks for it", key=where)
                a = answers[answer]
                figures.append(Figure(answer, figure_tex(answer, loss, params), float(a["value"]), a["shown"],
                                      float(a["tolerance"]), weight, float(share)))
            parts.append(Part(q["name"], q["title"], float(q["marks"]), tuple(figures)))
        ident = variant["id"]
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", ident):
            raise SpecError("an ID is letters, digits, '_', '.' or '-' (at most 64)", key=f"variants[{i}].id")
        problem, solution = exam_contexts(d, SOLUTION_DIGITS)
        svg = picture_svg(problem["network"]["picture"], title=f"The network of variant {ident}") \
            if problem["network"]["picture"]["drawn"] else ""
        out.append(ExamVariant(int(variant["number"]), ident, d, tuple(parts), svg,
                               problem_html(problem), solution_html(solution)))
    title = str(manifest["spec"].get("title") or name)
    return Exam(manifest, name, title, manifest["seed"], sig, tuple(out))


__all__ = ["Exam", "ExamVariant", "Part", "Figure", "load_exam", "figure_tex"]

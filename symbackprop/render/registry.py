"""The document registry: each kind of document, the derivation it needs and the files it writes.

>>> sorted(DOCUMENTS)
['derivation', 'exam', 'matrix', 'paths', 'solution', 'solution-matrix']
>>> DOCUMENTS["paths"].method
'paths'
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..derive import Derivation
from ..templating import render
from .derivation import derivation_context
from .exam import exam_contexts
from .matrix import matrix_context
from .paths import paths_context
from .solution import solution_context

Files = list[tuple[str, str]]
"""``(file name, LaTeX)`` of every document one kind writes."""


@dataclass(frozen=True)
class DocumentKind:
    """One kind of document: ``write(derivation, digits)`` gives its files; ``method`` forces how the
    gradients are derived (the paths document needs ``"paths"``), else the user's choice holds."""

    name: str
    write: Callable[[Derivation, int], Files]
    method: str | None = None


def _derivation(d: Derivation, digits: int) -> Files:
    return [(f"{d.name}-derivation.tex", render("derivation.tex.j2", **derivation_context(d)))]


def _paths(d: Derivation, digits: int) -> Files:
    return [(f"{d.name}-paths.tex", render("paths.tex.j2", **paths_context(d)))]


def _solution(d: Derivation, digits: int) -> Files:
    return [(f"{d.name}-solution.tex", render("solution.tex.j2", **solution_context(d, digits)))]


def _matrix(d: Derivation, digits: int) -> Files:
    return [(f"{d.name}-matrix.tex", render("matrix.tex.j2", **matrix_context(d, digits, solution=False)))]


def _solution_matrix(d: Derivation, digits: int) -> Files:
    return [(f"{d.name}-solution-matrix.tex", render("matrix.tex.j2", **matrix_context(d, digits, solution=True)))]


def exam_files(d: Derivation, digits: int, stem: str | None = None, *, variant: int | None = None,
               seed: int | None = None) -> Files:
    """The problem sheet and its solution (``<stem>-problem.tex``, ``<stem>-solution.tex``)."""
    stem = stem or f"{d.name}-exam"
    kwargs = {} if variant is None else {"variant": variant, "seed": seed}
    problem, solution = exam_contexts(d, digits, **kwargs)
    return [(f"{stem}-problem.tex", render("exam-problem.tex.j2", **problem)),
            (f"{stem}-solution.tex", render("exam-solution.tex.j2", **solution))]


DOCUMENTS: dict[str, DocumentKind] = {k.name: k for k in (
    DocumentKind("derivation", _derivation),
    DocumentKind("paths", _paths, method="paths"),
    DocumentKind("solution", _solution),
    DocumentKind("solution-matrix", _solution_matrix),
    DocumentKind("matrix", _matrix),
    DocumentKind("exam", exam_files),
)}

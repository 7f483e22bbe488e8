"""The document registry: each kind of document, the derivation it needs and the files it writes.

>>> sorted(DOCUMENTS)
['derivation', 'exam', 'matrix', 'paths', 'solution', 'solution-matrix']
>>> DOCUMENTS["paths"].method
'paths'
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import wraps
from typing import Callable

from ..derive import Derivation
from ..latex import lecture_symbols
from ..templating import render
from .derivation import derivation_context
from .exam import exam_contexts
from .front import finish_front
from .matrix import matrix_context
from .options import RenderOptions
from .paths import paths_context
from .solution import solution_context

Files = list[tuple[str, str]]
"""``(file name, LaTeX)`` of every document one kind writes."""


@dataclass(frozen=True)
class DocumentKind:
    """One kind of document: ``write(derivation, options)`` gives its files; ``method`` forces how
    the gradients are derived (the paths document needs ``"paths"``), else the user's choice holds."""

    name: str
    write: Callable[[Derivation, RenderOptions], Files]
    method: str | None = None


def in_lecture_symbols(write: Callable[..., Files]) -> Callable[..., Files]:
    """``write`` with the spec's ``symbols.target`` letter in force for every name it prints."""
    @wraps(write)
    def written(d: Derivation, *args, **kwargs) -> Files:
        with lecture_symbols(target=d.spec.symbols.get("target", "t")):
            return write(d, *args, **kwargs)
    return written


def _document(template: str, context: dict, d: Derivation, options: RenderOptions) -> str:
    finish_front(context["doc"], d.spec, options)
    return render(template, **context)


@in_lecture_symbols
def _derivation(d: Derivation, o: RenderOptions) -> Files:
    return [(f"{d.name}-derivation.tex", _document("derivation.tex.j2", derivation_context(d), d, o))]


@in_lecture_symbols
def _paths(d: Derivation, o: RenderOptions) -> Files:
    return [(f"{d.name}-paths.tex", _document("paths.tex.j2", paths_context(d, o), d, o))]


@in_lecture_symbols
def _solution(d: Derivation, o: RenderOptions) -> Files:
    return [(f"{d.name}-solution.tex", _document("solution.tex.j2", solution_context(d, o.precision), d, o))]


@in_lecture_symbols
def _matrix(d: Derivation, o: RenderOptions) -> Files:
    context = matrix_context(d, o.precision, solution=False)
    return [(f"{d.name}-matrix.tex", _document("matrix.tex.j2", context, d, o))]


@in_lecture_symbols
def _solution_matrix(d: Derivation, o: RenderOptions) -> Files:
    context = matrix_context(d, o.precision, solution=True)
    return [(f"{d.name}-solution-matrix.tex", _document("matrix.tex.j2", context, d, o))]


@in_lecture_symbols
def exam_files(d: Derivation, o: RenderOptions, stem: str | None = None, *, variant: int | None = None,
               seed: int | None = None) -> Files:
    """The problem sheet and its solution (``<stem>-problem.tex``, ``<stem>-solution.tex``); the
    problem sheet is always a student's edition."""
    stem = stem or f"{d.name}-exam"
    kwargs = {} if variant is None else {"variant": variant, "seed": seed}
    problem, solution = exam_contexts(d, o.precision, **kwargs)
    student = replace(o, edition="student", verbose=False)
    return [(f"{stem}-problem.tex", _document("exam-problem.tex.j2", problem, d, student)),
            (f"{stem}-solution.tex", _document("exam-solution.tex.j2", solution, d, o))]


DOCUMENTS: dict[str, DocumentKind] = {k.name: k for k in (
    DocumentKind("derivation", _derivation),
    DocumentKind("paths", _paths, method="paths"),
    DocumentKind("solution", _solution),
    DocumentKind("solution-matrix", _solution_matrix),
    DocumentKind("matrix", _matrix),
    DocumentKind("exam", exam_files),
)}

"""Exam books: every variant's problem sheet, or every solution, in one document to print.

Each part is the ``document`` block (title and body) of the single-variant template rendered
with that variant's context, so a book page is exactly the variant's own sheet; the parts
share the first one's preamble and start on a new page numbered from 1, with the student's ID
(or the variant) in the running header.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping, Sequence

from ..derive import Derivation
from ..latex import lecture_symbols
from ..templating import render
from .exam import exam_contexts
from .front import finish_front
from .options import RenderOptions

BOOKS = {"problems": "exam-problem.tex.j2", "solutions": "exam-solution.tex.j2"}
BEGIN, END = "\\begin{document}\n", "\\end{document}\n"


def split_document(tex: str) -> tuple[str, str]:
    r"""A rendered document's preamble and its body (between ``\begin{document}`` and ``\end{document}``).

    >>> split_document("% p\n\\begin{document}\nHi\n\\end{document}\n")
    ('% p\n', 'Hi\n')
    """
    head, sep, rest = tex.partition(BEGIN)
    body, end, _ = rest.rpartition(END)
    if not sep or not end:
        raise ValueError("not a whole LaTeX document")
    return head, body


def exam_books(variants: Sequence[tuple[Derivation, int, str | None]], options: RenderOptions, *,
               questions: Sequence[Mapping[str, Any]] | None, title: str | None = None,
               seed: int | None = None) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The two books, ``[("problems", tex), ("solutions", tex)]``, and every variant's own
    sheets, ``[(f"{id}-problem", tex), (f"{id}-solution", tex), …]`` (``id``: the student's, else
    ``v001``…).

    ``variants`` are ``(derivation, number, student ID or None)``; the problem sheets are
    always a student's edition.
    """
    student_options = replace(options, edition="student", verbose=False)
    parts: dict[str, list[dict]] = {kind: [] for kind in BOOKS}
    preambles: dict[str, str] = {}
    singles: list[tuple[str, str]] = []
    for d, number, student in variants:
        with lecture_symbols(target=d.spec.symbols.get("target", "t")):
            problem, solution = exam_contexts(d, options.precision, variant=number, seed=seed,
                                              questions=questions, student=student, title=title, width=3)
            finish_front(problem["doc"], d.spec, student_options)
            finish_front(solution["doc"], d.spec, options)
            for kind, ctx in (("problems", problem), ("solutions", solution)):
                tex = render(BOOKS[kind], **ctx)
                head, body = split_document(tex)
                preambles.setdefault(kind, head)
                parts[kind].append({"header": ctx["header"], "body": body})
                singles.append((f"{student or f'v{number:03d}'}-{kind[:-1]}", tex))
    books = [(kind, render("exam-book.tex.j2", preamble=preambles[kind], parts=parts[kind])) for kind in BOOKS]
    return books, singles

"""The gradebook: one CSV row per student from the graded records, for a spreadsheet or a platform's import.

:func:`gradebook_csv` is the class's table (``id, variant``, a column per question, ``total,
out_of, status, reason``); Moodle's *Grades → Import → CSV file* reads it as it is (map ``id``
to the user field the IDs are, a question or ``total`` to a grade item). :func:`canvas_gradebook_csv`
is the layout Canvas' gradebook import requires (``Student, ID, SIS User ID, SIS Login ID,
Section`` and the assignment). A student whose submission could not be graded has ``-`` for
marks (never a 0 a platform would import as a grade; ``-`` is "no grade" to Moodle's import,
which reads an empty cell of a new grade item as a value) and the reason; ``graded_only``
leaves such rows out, as an import into an existing grade item needs (Moodle stops the whole
import at an ID it does not know, and clears a grade for ``-``). The Canvas file leaves them
out always: an empty cell there would clear the student's grade.

Text cells are defused for spreadsheets: one starting with ``= + - @``, a tab or a carriage
return gets a leading ``'``. Marks are numbers (``f"{x:.2f}"``), left as they are. The same
records give the same bytes.

>>> manifest = {"questions": [{"name": "forward", "marks": 2.0}]}
>>> records = [{"id": "s2", "variant": "s2", "status": "error", "reason": "=cmd|' /C calc'!A0"},
...            {"id": "s1", "variant": "v001", "status": "graded", "reason": "", "total": 1.5, "out_of": 2.0,
...             "questions": [{"name": "forward", "marks": 1.5}]}]
>>> print(gradebook_csv(records, manifest), end="")
id,variant,forward,total,out_of,status,reason
s1,v001,1.50,1.50,2.00,graded,
s2,s2,-,-,2.00,error,'=cmd|' /C calc'!A0
"""
from __future__ import annotations

import csv
import io
import math
from typing import Any, Iterable, Mapping

from ..errors import SpecError

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
NO_MARK = "-"
CANVAS_STUDENT = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_ID_FIELDS = ("ID", "SIS User ID", "SIS Login ID")
CANVAS_RESERVED = CANVAS_STUDENT + ("LastName", "FirstName", "Integration ID", "Root Account")
CANVAS_NOT_ASSIGNMENTS = ("Current Score", "Current Points", "Current Grade", "Final Score", "Final Points",
                          "Final Grade", "Override Score", "Override Grade", "Override Status")
"""Canvas' importer drops every column whose name *contains* one of these (``GradebookImporter``)."""


def safe_text(value: Any) -> str:
    """A text cell a spreadsheet will not run: whitespace collapsed, a formula's first character defused.

    >>> safe_text("=1+1"), safe_text("  @SUM(A1)"), safe_text("plain"), safe_text(None)
    ("'=1+1", "'@SUM(A1)", 'plain', '')
    """
    if value is None:
        return ""
    text = str(value)
    if text[:1] in ("\t", "\r"):
        return "'" + " ".join(text.split())
    text = " ".join(text.split())
    return "'" + text if text[:1] in DANGEROUS else text


def marks_text(value: Any) -> str:
    """A mark as ``f"{x:.2f}"`` (empty if it is not a finite number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return ""
    return f"{value:.2f}"


def out_of(manifest: Mapping) -> float:
    """The exam's total marks (the manifest's questions)."""
    return sum(float(q["marks"]) for q in manifest["questions"])


def _sorted(records: Iterable[Mapping]) -> list[Mapping]:
    return sorted(records, key=lambda r: (str(r.get("id", "")), str(r.get("variant") or "")))


def _graded(record: Mapping) -> bool:
    return record.get("status") == "graded"


def _writer(out: io.StringIO) -> Any:
    return csv.writer(out, lineterminator="\n")


def gradebook_csv(records: Iterable[Mapping], manifest: Mapping, *, graded_only: bool = False) -> str:
    """The class's gradebook: a row per record sorted by ID (columns in the module docstring);
    with ``graded_only`` the graded records only."""
    questions = [str(q["name"]) for q in manifest["questions"]]
    total_marks = out_of(manifest)
    out = io.StringIO()
    writer = _writer(out)
    writer.writerow([safe_text(h) for h in ["id", "variant", *questions, "total", "out_of", "status", "reason"]])
    for r in _sorted(records):
        graded = _graded(r)
        if graded_only and not graded:
            continue
        earned = {str(q.get("name")): q.get("marks") for q in r.get("questions") or [] if isinstance(q, Mapping)}
        marks = [marks_text(earned.get(name)) if graded else NO_MARK for name in questions]
        writer.writerow([safe_text(r.get("id")), safe_text(r.get("variant")), *marks,
                         marks_text(r.get("total")) if graded else NO_MARK,
                         marks_text(r.get("out_of", total_marks)) or marks_text(total_marks),
                         "graded" if graded else "error", "" if graded else safe_text(r.get("reason"))])
    return out.getvalue()


def check_assignment(name: str) -> str:
    """``name`` (whitespace collapsed) if Canvas' importer reads it as an assignment column, else
    SpecError: check ``--canvas-assignment`` before grading."""
    text = " ".join(str(name).split())
    if not text or len(text) > 250:
        raise SpecError("must be 1 to 250 characters", key="assignment")
    if text[:1] in DANGEROUS:
        raise SpecError("must not start with = + - or @ (a spreadsheet reads it as a formula)", key="assignment")
    if text in CANVAS_RESERVED or any(word in text for word in CANVAS_NOT_ASSIGNMENTS):
        raise SpecError(f"'{text[:40]}' is a column Canvas' gradebook import does not read as an assignment",
                        key="assignment")
    return text


def canvas_gradebook_csv(records: Iterable[Mapping], manifest: Mapping, assignment: str, *,
                         id_field: str = "SIS User ID") -> str:
    """The totals in the layout of Canvas' gradebook import: ``Student, ID, SIS User ID, SIS Login ID,
    Section, <assignment>``, a ``Points Possible`` row, then a row per student sorted by ID.

    The student's ID goes in ``id_field`` (``"SIS User ID"``, the student analysis' ``sis_id``;
    ``"ID"`` for Canvas' numeric user ID, the analysis' ``id``; or ``"SIS Login ID"``); the
    other identity cells stay empty, which Canvas accepts. ``assignment`` names an existing
    assignment as Canvas' own export does (``Exam (1234)``) or a new one, which the import creates
    with the exam's marks as its points. Students who could not be graded are left out (an empty
    cell would clear a grade they have), so the import does not touch them.
    """
    if id_field not in CANVAS_ID_FIELDS:
        raise SpecError(f"must be one of {', '.join(CANVAS_ID_FIELDS)}", key="id_field")
    column = check_assignment(assignment)
    at = CANVAS_STUDENT.index(id_field)
    out = io.StringIO()
    writer = _writer(out)
    writer.writerow([*CANVAS_STUDENT, column])
    writer.writerow(["    Points Possible", "", "", "", "", marks_text(out_of(manifest))])
    for r in _sorted(records):
        if not _graded(r) or not marks_text(r.get("total")):
            continue
        row = ["", "", "", "", "", marks_text(r.get("total"))]
        row[at] = safe_text(r.get("id"))
        writer.writerow(row)
    return out.getvalue()

"""Where submissions come from: a folder of files, or one CSV (a class table or a platform's export).

:func:`read_submissions` reads every ``SUBMISSIONS`` argument of ``symbackprop grade`` into
one list with one submission per student (:func:`~symbackprop.grade.submissions.unique`).
A folder is read file by file (:func:`~symbackprop.grade.submissions.read_folder`), a
``.yaml``/``.txt`` file as one student's (named by its stem); a CSV
file by its kind — given with ``--from``, or recognised from its header
(:func:`~symbackprop.grade.lms_csv.detect`): a Moodle responses report, a Canvas student
analysis, or a class table.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

from ..errors import SpecError
from .lms_csv import CSV_READERS, csv_header, detect
from .submissions import (FILE_READERS, _failed, MAX_SUBMISSION_BYTES, MAX_TABLE_BYTES, Submission, read_bounded, read_folder,
                          read_table, unique)

KINDS = ("auto", "folder", "table", *sorted(CSV_READERS))


def answer_names(manifest: Mapping) -> list[str]:
    """Every figure the exam asks for, in question order."""
    return [name for q in manifest["questions"] for name in q["answers"]]


def read_one(path: Path, manifest: Mapping, *, kind: str = "auto", id_column: str | None = None,
             columns: Mapping[str, str] | None = None) -> list[Submission]:
    """The submissions in one ``SUBMISSIONS`` argument (SpecError naming the file if it is unusable)."""
    if path.is_dir():
        if kind not in ("auto", "folder"):
            raise SpecError(f"is a folder, not a CSV file (--from {kind})", file=str(path))
        if columns or id_column:
            raise SpecError("is a folder: its files are named by student ID and their figures by name "
                            "(--column and --id-column are for CSV files)", file=str(path))
        return read_folder(path)
    if kind == "folder":
        raise SpecError("is not a folder (--from folder)", file=str(path))
    suffix = path.suffix.lower()
    if kind == "auto" and suffix in FILE_READERS and suffix != ".csv":   # one student's file
        try:
            return [FILE_READERS[suffix](path.stem, read_bounded(path, MAX_SUBMISSION_BYTES), path.name)]
        except SpecError as exc:      # one student's file: an error row, as in a folder
            return [_failed(path.stem, path.name, f"{path.name} {exc.message}")]
    try:
        text = read_bounded(path, MAX_TABLE_BYTES)
    except SpecError as exc:
        raise SpecError(exc.message, file=str(path)) from None
    if kind == "auto":
        kind = detect(csv_header(text, str(path)))
    if kind == "table":
        return read_table(text, str(path), answer_names(manifest), id_column=id_column or "id", columns=columns)
    if columns:
        raise SpecError(f"--column maps a class table's columns; a {kind} export has its own", key="--column")
    return CSV_READERS[kind](text, str(path), manifest, id_column=id_column)


def read_submissions(paths: Sequence[Path], manifest: Mapping, **options) -> list[Submission]:
    """Every submission of every path, one per student ID, sorted by ID."""
    found: list[Submission] = []
    for path in paths:
        found += read_one(Path(path), manifest, **options)
    return unique(found)

r"""Deliver an exam to a learning platform: Moodle XML, a Canvas QTI 1.2 zip, a PrairieLearn question.

Every exporter reads the exam's variant manifest (``<name>-variants.json``, see
:mod:`symbackprop.exams.manifest`) and each variant's Derivation (for the picture and the worked
solution); the answers and tolerances are the manifest's, unchanged.

>>> sorted(EXPORTERS)
['moodle', 'prairielearn', 'qti']
>>> EXPORTERS["qti"].kind, EXPORTERS["prairielearn"].kind
('file', 'folder')

:func:`export` writes one export atomically (every file checked first, then all written). Modules:
:mod:`.source` (the exam as exporters read it), :mod:`.svg` (the network picture without TeX),
:mod:`.html` (problem and worked solution for MathJax), :mod:`.cloze` (Moodle's embedded-answer
syntax, written and parsed), :mod:`.moodle`, :mod:`.qti`, :mod:`.prairielearn`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from ..files import write_all
from .moodle import moodle_xml
from .prairielearn import prairielearn_files
from .qti import qti_zip
from .source import Exam, load_exam


@dataclass(frozen=True)
class Exporter:
    """One platform: ``write(exam)`` gives the files, keyed by path relative to the output
    (``""`` for a single-file export); ``kind`` says whether the output is a file or a folder."""

    name: str
    kind: str            # "file" or "folder"
    suffix: str          # of a single file ("" for a folder)
    description: str
    write: Callable[[Exam], dict[str, bytes]]


EXPORTERS: dict[str, Exporter] = {e.name: e for e in (
    Exporter("moodle", "file", ".xml", "Moodle XML: one Cloze question per variant in a category",
             lambda exam: {"": moodle_xml(exam)}),
    Exporter("qti", "file", ".zip", "QTI 1.2 zip for Canvas: a question bank of numerical questions per variant",
             lambda exam: {"": qti_zip(exam)}),
    Exporter("prairielearn", "folder", "", "PrairieLearn question folder (info.json, question.html, server.py)",
             prairielearn_files),
)}


def export_files(manifest: str | Path | Mapping[str, Any], to: str) -> dict[str, bytes]:
    """The files of one export (relative path → bytes), nothing written."""
    if to not in EXPORTERS:
        from ..errors import SpecError

        raise SpecError(f"unknown platform '{to}' (choose {', '.join(sorted(EXPORTERS))})", key="to")
    return EXPORTERS[to].write(load_exam(manifest))


def export(manifest: str | Path | Mapping[str, Any], to: str, out_path: str | Path, *, force: bool = False,
           follow_symlinks: bool = False) -> list[Path]:
    """Write the ``to`` export (``moodle``, ``qti`` or ``prairielearn``) of a manifest (path or
    mapping) to ``out_path`` (a file, or a folder for PrairieLearn); return the paths written.

    Raises :class:`symbackprop.errors.SpecError` for a bad manifest and
    :class:`symbackprop.files.OutputError` for an output that may not be written.
    """
    files = export_files(manifest, to)
    out = Path(out_path)
    targets = [(out / rel if rel else out, data) for rel, data in sorted(files.items())]
    inputs = {} if isinstance(manifest, Mapping) else {Path(manifest): "the manifest"}
    write_all(targets, force=force, inputs=inputs, follow_symlinks=follow_symlinks)
    return [p for p, _ in targets]


__all__ = ["EXPORTERS", "Exporter", "export", "export_files", "load_exam", "Exam"]

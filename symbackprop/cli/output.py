"""Checked, atomic output for every command: a refusal is one line and exit status 2."""
from __future__ import annotations

from pathlib import Path

from ..errors import fail
from ..files import OutputError, check_target, write_atomically


def write_output(path: Path, data: str | bytes, *, force: bool, inputs: dict[Path, str]) -> None:
    """Write one output file atomically, or fail with one line (exit 2) when it may not be written."""
    try:
        write_atomically(path, data, force=force, inputs=inputs)
    except OutputError as exc:
        fail(str(exc))


def check_output(path: Path | None, *, force: bool, inputs: dict[Path, str]) -> None:
    """Refuse an output file before any work is done (:func:`symbackprop.files.check_target`)."""
    if path is not None:
        try:
            check_target(path, force=force, inputs=inputs)
        except OutputError as exc:
            fail(str(exc))

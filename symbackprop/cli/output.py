"""Checked, atomic output for every command: a refusal is one line and exit status 2."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from ..errors import fail
import click

from ..files import FOLLOW_HELP, OutputError, check_target, write_atomically

follow_option = click.option("--follow-symlinks", is_flag=True, help=FOLLOW_HELP)
"""Every command that writes files has it: outputs that are symbolic links are refused without it."""


def write_output(path: Path, data: str | bytes, *, force: bool, inputs: dict[Path, str],
                 follow_symlinks: bool = False) -> None:
    """Write one output file atomically, or fail with one line (exit 2) when it may not be written."""
    try:
        write_atomically(path, data, force=force, inputs=inputs, follow_symlinks=follow_symlinks)
    except OutputError as exc:
        fail(str(exc))


def check_output(path: Path | None, *, force: bool, inputs: dict[Path, str], follow_symlinks: bool = False) -> None:
    """Refuse an output file before any work is done (:func:`symbackprop.files.check_target`)."""
    if path is not None:
        try:
            check_target(path, force=force, inputs=inputs, follow_symlinks=follow_symlinks)
        except OutputError as exc:
            fail(str(exc))


@contextlib.contextmanager
def spec_errors(spec: Path) -> Iterator[None]:
    """Turn a mistake in ``spec`` (or what it leads to) into one line ``symbackprop: error: …``, exit 2."""
    import jinja2

    from ..errors import SpecError
    from ..expressions import ExpressionError

    try:
        yield
    except SpecError as exc:
        fail(str(exc if exc.file else exc.located(str(spec))))
    except ExpressionError as exc:
        fail(f"{spec}: {exc}")
    except jinja2.TemplateError as exc:
        fail(f"template error: {exc}")

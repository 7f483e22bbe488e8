"""``symbackprop export``: an exam's variant manifest to a learning platform (registered in :mod:`symbackprop.cli.main`).

Reads ``<name>-variants.json`` (written by ``symbackprop exam``) and writes Moodle XML, a Canvas
QTI 1.2 zip or a PrairieLearn question folder (:mod:`symbackprop.lms`). Everything is built
before anything is written; a bad manifest or an output that may not be written prints one
line ``symbackprop: error: …`` and exits with status 2, leaving the outputs as they were.
"""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import SpecError, fail
from ..files import FORCE_HELP, OutputError
from ..lms import EXPORTERS, export
from .output import follow_option

HELP = """Export the exam variants in MANIFEST (<name>-variants.json) to a learning platform.

\b
  moodle        Moodle XML: one Cloze question per variant in one category
                (add "a random question" from it to a quiz); -o FILE.xml
  qti           QTI 1.2 zip for Canvas: a question bank per variant, one numerical
                question per figure; -o FILE.zip (Course > Import > QTI .zip file)
  prairielearn  a PrairieLearn question folder; -o questions/NAME (server.py grades
                with symbackprop's checker: error carried forward, named slips)
"""


@click.command("export", help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--to", "to", type=click.Choice(sorted(EXPORTERS)), required=True, help="the platform")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="the file (moodle, qti) or folder (prairielearn) to write; default: beside MANIFEST")
@click.option("--force", is_flag=True, help=FORCE_HELP)
@follow_option
def export_command(manifest: Path, to: str, output: Path | None, force: bool, follow_symlinks: bool) -> None:
    output = output or default_output(manifest, to)
    try:
        written = export(manifest, to, output, force=force, follow_symlinks=follow_symlinks)
    except SpecError as exc:
        fail(str(exc.located(str(manifest))))
        return
    except OutputError as exc:
        fail(str(exc))
        return
    except OSError as exc:
        fail(f"{manifest}: {exc.strerror or exc}")
        return
    click.echo(f"wrote {output}" + (f" ({len(written)} files)" if EXPORTERS[to].kind == "folder" else ""), err=True)


def default_output(manifest: Path, to: str) -> Path:
    """``we05-variants.json`` → ``we05-moodle.xml``, ``we05-qti.zip``, ``we05-prairielearn/``."""
    stem = manifest.name.removesuffix(".json").removesuffix("-variants")
    return manifest.with_name(f"{stem}-{to}{EXPORTERS[to].suffix}")

"""``symbackprop render``: LaTeX documents (and PDFs) from a spec.

Every document is rendered, and with ``--pdf`` compiled, before anything is written; then
each file is written atomically. A mistake in the spec, a failing LaTeX run or a missing TeX
installation prints ``symbackprop: error: …`` on stderr, exits with status 2 and leaves the
output directory exactly as it was.
"""
from __future__ import annotations

from pathlib import Path

import click

from ..derive import METHODS, derive
from ..derive.paths import DEFAULT_MAX_PATHS
from ..errors import SpecError, fail
from ..files import FORCE_HELP, OutputError, write_all
from .output import follow_option, spec_errors
from ..render.options import EDITIONS, RenderOptions
from ..render.pdf import NO_TEX, LatexError, compile_all, pdflatex_path
from ..render.registry import DOCUMENTS
from ..spec import load_spec

TEMPLATES = ("derivation", "paths", "solution", "exam", "matrix")
NOTATIONS = ("scalar", "matrix")


def documents(spec_path: Path, template: str, method: str, options: RenderOptions, variants: int | None,
              seed: int, max_paths: int = DEFAULT_MAX_PATHS, notation: str = "scalar") -> list[tuple[str, str]]:
    """``(file name, LaTeX)`` for every document the command writes (nothing is written here)."""
    spec = load_spec(spec_path)
    unknown = [w for w in options.wrt if w not in spec.parameters]
    if unknown:
        raise SpecError(f"'{unknown[0][:40]}' is not a parameter of the spec ({', '.join(spec.parameters[:8])}"
                        f"{', …' if len(spec.parameters) > 8 else ''})", key="wrt")
    if options.wrt and template != "paths":
        raise SpecError("--wrt goes with --template paths", key="wrt")
    if variants is not None:
        raise SpecError("--variants goes with --template exam", key="variants")
    if notation == "matrix" and template not in ("solution", "matrix"):
        raise SpecError("--notation matrix goes with --template solution (or use --template matrix)",
                        key="notation")
    kind = DOCUMENTS["solution-matrix" if notation == "matrix" and template == "solution" else template]
    return kind.write(derive(spec, kind.method or method, max_paths=max_paths), options)


@click.command("render")
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--template", type=click.Choice(TEMPLATES), default="derivation", show_default=True,
              help="derivation: symbolic, step by step; paths: every path to the loss; "
                   "solution: the numeric worked solution; exam: problem sheet and solution; "
                   "matrix: a layered network in vector and matrix notation")
@click.option("--notation", type=click.Choice(NOTATIONS), default="scalar", show_default=True,
              help="with --template solution: scalar (neuron by neuron) or matrix (layer by layer)")
@click.option("--method", type=click.Choice(METHODS), default="backprop", show_default=True,
              help="how the gradients are derived (paths adds the sums over paths to the derivation)")
@click.option("--digits", type=click.IntRange(0, 12), default=6, show_default=True,
              help="decimal places of the numbers shown (display only)")
@click.option("--sig", type=click.IntRange(1, 12), default=None,
              help="significant figures of the numbers shown instead of fixed decimals (display only)")
@click.option("--edition", type=click.Choice(sorted(EDITIONS)), default="student", show_default=True,
              help="student: title and working only; instructor: also the spec's description and "
                   "notes, and the tool's consistency checks")
@click.option("--course", default="", metavar="TEXT",
              help="running header, left (e.g. the course; $…$ math allowed); default: the spec's 'course'")
@click.option("--sheet", default="", metavar="TEXT",
              help="running header, right (e.g. 'Exercise sheet 4'); default: the spec's 'sheet', else the document kind")
@click.option("--verbose", is_flag=True, help="also print the tool's consistency checks in a student's edition")
@click.option("--wrt", multiple=True, metavar="NAME",
              help="with --template paths: list only this parameter's paths (repeatable); the rest are counted")
@click.option("--pdf", "make_pdf", is_flag=True, help="also compile each document to PDF with pdflatex")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=Path("output"),
              show_default=True, metavar="DIR", help="directory to write the files into")
@click.option("--variants", type=click.IntRange(1, 1000), default=None,
              help="with --template exam: this many randomised variants (as `symbackprop exam --variants N`)")
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the randomised variants")
@click.option("--max-paths", type=click.IntRange(min=1), default=DEFAULT_MAX_PATHS, show_default=True,
              help="refuse to enumerate more paths than this (paths)")
@click.option("--force", is_flag=True, help=FORCE_HELP)
@follow_option
def render_command(spec: Path, template: str, notation: str, method: str, digits: int, sig: int | None,
                   edition: str, course: str, sheet: str, verbose: bool, wrt: tuple[str, ...],
                   make_pdf: bool, output: Path, variants: int | None, seed: int, max_paths: int,
                   force: bool, follow_symlinks: bool) -> None:
    """Write LaTeX documents for SPEC into DIR: <name>-<template>.tex, for exams
    <name>-exam-problem.tex and <name>-exam-solution.tex (with --variants N: what
    `symbackprop exam --variants N` writes); <name>-solution-matrix.tex with --notation
    matrix; and each .pdf with --pdf."""
    if template == "exam" and variants is not None:   # the alias of `symbackprop exam`
        from .exam import exam_command

        click.get_current_context().invoke(exam_command, spec=spec, count=variants, seed=seed, sig=sig or 3,
                                           course=course, sheet=sheet, make_pdf=make_pdf, output=output,
                                           force=force, follow_symlinks=follow_symlinks)
        return
    if make_pdf and pdflatex_path() is None:
        fail(NO_TEX)
    with spec_errors(spec):
        options = RenderOptions(digits=digits, sig=sig, edition=edition, course=course, sheet=sheet,
                                verbose=verbose, wrt=tuple(dict.fromkeys(wrt)))
        texts = documents(spec, template, method, options, variants, seed, max_paths, notation)
    files: list[tuple[str, str | bytes]] = list(texts)
    if make_pdf:
        try:
            files += compile_all(texts)
        except LatexError as exc:
            fail(f"{exc.message}; nothing was written", exc.lines)
            return
    inputs = {spec: "the spec"}
    try:  # all or nothing: checked, written to temporaries, then moved into place
        write_all([(output / name, data) for name, data in files], force=force, inputs=inputs,
                  follow_symlinks=follow_symlinks)
    except OutputError as exc:
        fail(str(exc))
        return
    for name, _ in files:
        click.echo(f"wrote {output / name}", err=True)


"""``symbackprop render``: LaTeX documents (and PDFs) from a spec.

Every document is rendered, and with ``--pdf`` compiled, before anything is written; then
each file is written atomically. A mistake in the spec, a failing LaTeX run or a missing TeX
installation prints ``symbackprop: error: …`` on stderr, exits with status 2 and leaves the
output directory exactly as it was.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click
import jinja2

from ..derive import METHODS, derive
from ..derive.paths import DEFAULT_MAX_PATHS
from ..errors import SpecError, fail
from ..exams.variants import draw_variants
from ..expressions import ExpressionError
from ..files import FORCE_HELP, OutputError, write_all
from .output import follow_option
from ..render.exam import contents_context
from ..render.options import EDITIONS, RenderOptions
from ..render.pdf import NO_TEX, LatexError, compile_pdf, pdflatex_path
from ..render.registry import DOCUMENTS, exam_files
from ..spec import load_spec
from ..templating import render

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
    name = spec.name
    if variants is not None and template != "exam":
        raise SpecError("--variants goes with --template exam", key="variants")
    if notation == "matrix" and template not in ("solution", "matrix"):
        raise SpecError("--notation matrix goes with --template solution (or use --template matrix)",
                        key="notation")
    kind = DOCUMENTS["solution-matrix" if notation == "matrix" and template == "solution" else template]
    if variants is None:
        return kind.write(derive(spec, kind.method or method, max_paths=max_paths), options)
    drawn = draw_variants(spec, variants, seed, method=method)
    width = max(2, len(str(variants)))
    out, files = [], []
    for v in drawn:
        stem = f"{name}-exam-v{v.number:0{width}d}"
        out += exam_files(v.derivation, options, stem, variant=v.number, seed=seed)
        files.append((f"{stem}-problem", f"{stem}-solution"))
    contents = contents_context(spec, drawn, files, seed, options.precision)
    out.append((f"{name}-exam-contents.tex", render("exam-contents.tex.j2", **contents)))
    return out


def compile_all(texts: list[tuple[str, str]]) -> list[tuple[str, bytes]]:
    """Compile every ``.tex`` (in parallel, each in its own scratch directory) to PDF bytes."""
    jobs = [(name[:-len(".tex")], tex) for name, tex in texts]
    workers = max(1, min(len(jobs), os.cpu_count() or 1, 4))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pdfs = list(pool.map(lambda job: compile_pdf(job[1], job[0]), jobs))
    return [(f"{stem}.pdf", pdf) for (stem, _), pdf in zip(jobs, pdfs)]


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
              help="with --template exam: this many randomised variants (needs 'randomize' in the spec)")
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
    <name>-exam-problem.tex and <name>-exam-solution.tex (per variant -exam-vNN-…, plus
    <name>-exam-contents.tex; <name>-solution-matrix.tex with --notation matrix), and each .pdf
    with --pdf."""
    if make_pdf and pdflatex_path() is None:
        fail(NO_TEX)
    try:
        options = RenderOptions(digits=digits, sig=sig, edition=edition, course=course, sheet=sheet,
                                verbose=verbose, wrt=tuple(dict.fromkeys(wrt)))
        texts = documents(spec, template, method, options, variants, seed, max_paths, notation)
    except SpecError as exc:
        fail(str(exc.located(str(spec))))
        return
    except ExpressionError as exc:
        fail(f"{spec}: {exc}")
        return
    except jinja2.TemplateError as exc:
        fail(f"template error: {exc}")
        return
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


"""``symbackprop exam``: randomised exam variants, printable and deliverable (registered in :mod:`symbackprop.cli.main`).

Draws the variants (:mod:`symbackprop.exams`), writes the variant manifest, the marking key
(LaTeX and CSV) and two books — every problem sheet, every solution — and with ``--to`` the
learning-platform exports (:mod:`symbackprop.lms`). Everything is built (and with ``--pdf``
compiled) before anything is written; a mistake prints one line ``symbackprop: error: …`` and
exits with status 2, leaving the output directory as it was. ``--stress N`` writes nothing: it
prints the stress test.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import click

from ..errors import SpecError, fail
from ..exams.manifest import MANIFEST_SUFFIX, build_manifest, key_csv, manifest_text, spec_stem
from ..exams.questions import asked
from ..exams.randomize import draw_plan, exam_title
from ..exams.roster import read_roster
from ..exams.rules import RULES
from ..exams.stress import stress as stress_test
from ..exams.variants import MAX_VARIANTS, draw_variants
from ..files import FORCE_HELP, OutputError, write_all
from ..lms import EXPORTERS, load_exam
from ..render.book import exam_books
from ..render.key import key_tex
from ..render.options import RenderOptions
from ..render.pdf import NO_TEX, LatexError, compile_all, pdflatex_path
from ..spec import Spec, load_spec
from .output import follow_option, spec_errors

HELP = """Make randomised exam variants of SPEC: problem sheets, solutions, a marking key and a variant manifest.

\b
Writes into DIR (default output/):
  <name>-exam-problems.tex   every variant's problem sheet (name/ID field, marks, answer lines)
  <name>-exam-solutions.tex  every variant's worked solution
  <name>-exam-key.tex/.csv   the marking key: every variant's expected figures and tolerances
  <name>-variants.json       the variant manifest (what export and grading read)
and the PDFs with --pdf, each variant's own sheets with --per-variant, the exports with --to.
Values are drawn by the spec's 'randomize' mapping (default: weights and inputs on a 0.1
grid in [-1, 1], targets by the loss); draws at a kink or tie, with zero weights, zero
gradients, saturated units, a step that does not lower the loss, … are drawn again.
"""


def parse_marks(text: str) -> dict[str, float]:
    """``forward=2,gradients=4`` as ``{"forward": 2.0, "gradients": 4.0}``.

    >>> parse_marks("forward=2, gradients=4.5")
    {'forward': 2.0, 'gradients': 4.5}
    """
    out: dict[str, float] = {}
    for item in (i.strip() for i in text.split(",")):
        if not item:
            continue
        name, eq, value = item.partition("=")
        try:
            marks = float(value)
        except ValueError:
            marks = -1.0
        if not eq or not 0 <= marks <= 1000:
            raise SpecError(f"'{item[:40]}' is not question=marks with marks from 0 to 1000", key="marks")
        out[name.strip()] = marks
    return out


def exam_outputs(spec: Spec, *, count: int | None, roster: Sequence[str] | None, seed: int,
                 questions: str | None, marks: dict[str, float], sig: int, options: RenderOptions,
                 title: str | None, per_variant: bool, to: Sequence[str], method: str = "backprop"
                 ) -> list[tuple[str, str | bytes]]:
    """Every file of one exam, ``(path relative to DIR, data)``, nothing written."""
    plan = draw_plan(spec, tuple(RULES))
    variants = draw_variants(spec, count, seed, ids=roster, method=method, questions=questions, sig=sig,
                             plan=plan)
    manifest = build_manifest(spec, variants, seed=seed, questions=questions, sig=sig, marks=marks)
    title = title or exam_title(spec, plan)
    manifest["title"] = title
    chosen = asked(variants[0].derivation, questions)
    sheet_questions = [{"name": q["name"], "only": list(c.only), "marks": q["marks"], "figures": len(q["answers"])}
                       for q, c in zip(manifest["questions"], chosen)]
    books, singles = exam_books([(v.derivation, v.number, v.id) for v in variants], options,
                                questions=sheet_questions, title=title, seed=seed)
    name = spec_stem(spec)
    files: list[tuple[str, str | bytes]] = [(f"{name}-exam-{kind}.tex", tex) for kind, tex in books]
    files.append((f"{name}-exam-key.tex", key_tex(manifest, title)))
    if per_variant:
        files += [(f"{name}-exam/{stem}.tex", tex) for stem, tex in singles]
    data: list[tuple[str, str | bytes]] = [(f"{name}-exam-key.csv", key_csv(manifest)),
                                           (f"{name}{MANIFEST_SUFFIX}", manifest_text(manifest))]
    exam = load_exam(manifest) if to else None       # every variant derived again once, for every platform
    for platform in to:
        exporter = EXPORTERS[platform]
        for rel, blob in sorted(exporter.write(exam).items()):
            base = f"{name}-{platform}{exporter.suffix}"
            data.append((f"{base}/{rel}" if rel else base, blob))
    return files + data


@click.command("exam", help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--variants", "count", type=click.IntRange(1, MAX_VARIANTS), default=None,
              help="how many variants (default 30; not with --roster)")
@click.option("--roster", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="a CSV with an 'id' column: one variant per student, drawn from the seed and the ID")
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the draws")
@click.option("--questions", default=None, metavar="LIST",
              help="forward,deltas,gradients[:w1,w2],update[:w1],second_pass,loss_after (default: all that fit)")
@click.option("--marks", default="", metavar="Q=N,…",
              help="marks per question, e.g. forward=2,gradients=4 (default: the spec's exam.marks, else 1 per figure)")
@click.option("--sig", type=click.IntRange(1, 8), default=3, show_default=True,
              help="significant figures asked and shown; the tolerance is half a unit of the last")
@click.option("--title", default=None, help="the sheets' title (default: the spec's exam.title or title)")
@click.option("--course", default="", metavar="TEXT", help="running header, left (default: the spec's 'course')")
@click.option("--sheet", default="", metavar="TEXT", help="running header text of the key (default: the spec's 'sheet')")
@click.option("--per-variant", is_flag=True, help="also each variant's own sheets, in DIR/<name>-exam/")
@click.option("--to", "to", type=click.Choice(sorted(EXPORTERS)), multiple=True,
              help="also export to a learning platform (repeatable): moodle, qti (Canvas), prairielearn")
@click.option("--stress", type=click.IntRange(1, MAX_VARIANTS), default=None, metavar="N",
              help="draw N variants and print how often each rule fired and every answer's range; write nothing")
@click.option("--pdf", "make_pdf", is_flag=True, help="also compile the books and the key (and --per-variant sheets)")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=Path("output"),
              show_default=True, metavar="DIR", help="directory to write into")
@click.option("--force", is_flag=True, help=FORCE_HELP)
@follow_option
def exam_command(spec: Path, count: int | None, roster: Path | None, seed: int, questions: str | None,
                 marks: str, sig: int, title: str | None, course: str, sheet: str, per_variant: bool,
                 to: tuple[str, ...], stress: int | None, make_pdf: bool, output: Path, force: bool,
                 follow_symlinks: bool) -> None:
    if make_pdf and stress is None and pdflatex_path() is None:
        fail(NO_TEX)
    with spec_errors(spec):
        if roster is not None and count is not None:
            raise SpecError("give --variants or --roster, not both", key="variants")
        parsed = load_spec(spec)
        if stress is not None:
            click.echo(stress_test(parsed, stress, seed, questions=questions, sig=sig).markdown(), nl=False)
            return
        ids = read_roster(roster) if roster is not None else None
        options = RenderOptions(sig=sig, course=course, sheet=sheet)
        files = exam_outputs(parsed, count=None if ids else (count or 30), roster=ids, seed=seed,
                             questions=questions, marks=parse_marks(marks), sig=sig, options=options,
                             title=title, per_variant=per_variant, to=to)
    if make_pdf:
        texts = [(n, t) for n, t in files if n.endswith(".tex") and (per_variant or "/" not in n)]
        try:
            pdfs = compile_all([(Path(n).name, t) for n, t in texts])
        except LatexError as exc:
            fail(f"{exc.message}; nothing was written", exc.lines)
            return
        files += [(str(Path(n).with_name(p)), data) for (n, _), (p, data) in zip(texts, pdfs)]
    inputs = {spec: "the spec"} | ({roster: "the roster"} if roster else {})
    try:
        write_all([(output / name, data) for name, data in files], force=force, inputs=inputs,
                  follow_symlinks=follow_symlinks)
    except OutputError as exc:
        fail(str(exc))
        return
    shown = [n for n, _ in files if "/" not in n or not n.split("/")[0].endswith(("-exam", "-prairielearn"))]
    for name in shown:
        click.echo(f"wrote {output / name}", err=True)
    folders = sorted({n.split("/")[0] for n, _ in files if n not in shown})
    for folder in folders:
        click.echo(f"wrote {output / folder}/ ({sum(n.startswith(folder + '/') for n, _ in files)} files)", err=True)


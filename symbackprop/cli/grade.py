"""``symbackprop grade``: a class's submissions graded on Dask against the exam manifest (registered in :mod:`symbackprop.cli.main`).

Reads the manifest and every submission, reuses each result already in ``OUTDIR`` for the same
manifest, marking scheme and submission (unless ``--force``), grades the rest on a local Dask
cluster (``--workers``) or a scheduler's (``--scheduler``), writes each student's result and
feedback as it finishes, then the gradebook and the class report. Ctrl-C stops the grading
and still writes a gradebook of what finished; the same command resumes.

Exit status: 0 when every submission was graded, 1 when some could not be (their rows in the
gradebook say why), 2 for bad input (the manifest, an option, an unreadable CSV), 130 when
interrupted.
"""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Callable

import click

from ..errors import SpecError, fail
from ..files import OutputError

HELP = """Grade a class's submissions against an exam MANIFEST (<name>-variants.json of symbackprop exam).

\b
SUBMISSIONS: folders of <id>.yaml / <id>.csv / <id>.txt (a worked solution: figure
names as in a 'solution:' file, e.g. out_T = 0.555), or CSV files: a class table (an 'id'
column and one column per figure; --column, --id-column), a Moodle responses report or a
Canvas student analysis (recognised by their header; --from to say which).

\b
Writes into OUTDIR:
  gradebook.csv                  one row per student: marks per question, total, status
  gradebook-canvas.csv           the same for Canvas' grade import (with --canvas-assignment)
  feedback/<id>.md, .html (.pdf) each figure right/wrong/carried forward, the slip, the working
  class-report.md, .html         score histogram, slips by question, what to re-teach
  results/<id>.json              each student's graded record (reused by the next run)
Runs on a local Dask cluster of --workers processes, or on --scheduler's workers.
"""


class _Progress:
    """Graded/total with rate and ETA: a rich bar on a terminal, a line every 10 % otherwise."""

    def __init__(self, total: int, quiet: bool):
        self.total, self.done, self.start, self.quiet = total, 0, time.monotonic(), quiet
        self.bar = None
        self.next_line = 0.1
        if total and not quiet and sys.stderr.isatty():
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            self.bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                TextColumn("ETA"), TimeRemainingColumn(), transient=True)
            self.task = self.bar.add_task("grading", total=total)
            self.bar.start()

    def step(self) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.advance(self.task)
        elif not self.quiet and self.total and self.done / self.total >= self.next_line - 1e-9:
            elapsed = time.monotonic() - self.start
            eta = elapsed / self.done * (self.total - self.done)
            click.echo(f"graded {self.done}/{self.total} ({100 * self.done // self.total} %), {elapsed:.1f} s, "
                       f"ETA {eta:.0f} s", err=True)
            while self.next_line <= self.done / self.total + 1e-9:
                self.next_line += 0.1

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _parse_columns(items: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in items:
        name, eq, header = item.partition("=")
        if not eq or not name.strip() or not header.strip():
            raise SpecError(f"'{item[:40]}' is not NAME=HEADER", key="--column")
        if name.strip() in out:
            raise SpecError(f"'{name.strip()[:40]}' is given twice", key="--column")
        out[name.strip()] = header.strip()
    return out


@click.command("grade", help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("submissions", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=Path("output/graded"),
              show_default=True, metavar="OUTDIR", help="folder to write into")
@click.option("--from", "kind", type=click.Choice(["auto", "folder", "table", "moodle", "canvas"]), default="auto",
              show_default=True, help="what SUBMISSIONS are (auto: a folder, or a CSV recognised by its header)")
@click.option("--id-column", default=None, metavar="NAME",
              help="the CSV column with the student ID (a table: 'id'; Moodle: ID number, Username or Email "
                   "address; Canvas: sis_id or id)")
@click.option("--column", "columns", multiple=True, metavar="NAME=HEADER",
              help="a class table's column for an answer, e.g. out_T=Q3 (repeatable)")
@click.option("--ecf", type=click.Choice(["full", "half", "none"]), default="full", show_default=True,
              help="credit for a wrong figure that follows from the student's own earlier figures")
@click.option("--penalty", "penalties", multiple=True, metavar="KIND=F",
              help="share of a figure's marks lost for a slip kind, e.g. sign=0.5 or precision=1 (repeatable; "
                   "default: precision=0.5, every slip 1)")
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="local Dask worker processes (default: the machine's cores)")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="grade on an existing Dask cluster, e.g. tcp://10.0.0.5:8786 (instead of a local one)")
@click.option("--time-limit", type=click.FloatRange(1, 3600), default=30.0, show_default=True, metavar="S",
              help="seconds one submission may take to grade")
@click.option("--memory-limit", type=click.IntRange(0, 1_000_000), default=2048, show_default=True, metavar="MB",
              help="memory one submission may add to its worker (0: no cap, e.g. on a cluster you share)")
@click.option("--canvas-assignment", default=None, metavar="NAME",
              help="also write gradebook-canvas.csv for Canvas' grade import, into this assignment")
@click.option("--canvas-id-field", type=click.Choice(["SIS User ID", "ID", "SIS Login ID"]), default="SIS User ID",
              show_default=True, help="which Canvas column the student IDs are: ID for Canvas' own numeric user IDs "
                                      "(a student analysis without sis_id, or --id-column id)")
@click.option("--pdf", "make_pdf", is_flag=True, help="also each student's feedback as PDF (needs TeX Live)")
@click.option("--quiet", is_flag=True, help="no progress lines")
@click.option("--force", is_flag=True, help="grade every submission again (not only new or changed ones); "
              "also write into a folder symbackprop grade did not make")
def grade_command(manifest: Path, submissions: tuple[Path, ...], output: Path, kind: str, id_column: str | None,
                  columns: tuple[str, ...], ecf: str, penalties: tuple[str, ...], workers: int | None,
                  scheduler: str | None, time_limit: float, memory_limit: int, canvas_assignment: str | None,
                  canvas_id_field: str, make_pdf: bool, quiet: bool, force: bool) -> None:
    from ..exams.manifest import load_manifest
    from ..grade.cluster import ClusterError
    from ..grade.inputs import read_submissions
    from ..grade.marks import Scheme
    from ..grade.store import Store
    from ..render.pdf import NO_TEX, pdflatex_path

    if make_pdf and pdflatex_path() is None:
        fail(NO_TEX)
    try:
        m = load_manifest(manifest)
        scheme = Scheme.parse(ecf, penalties)
        if canvas_assignment is not None:
            from ..grade.gradebook import check_assignment

            check_assignment(canvas_assignment)
        subs = read_submissions(submissions, m, kind=kind, id_column=id_column, columns=_parse_columns(columns))
        if not subs:
            raise SpecError("no submissions found (files named <id>.yaml, <id>.csv or <id>.txt, or CSV rows)",
                            file=", ".join(str(s) for s in submissions)[:200])
        store = Store(output)
        store.open(force=force)
    except SpecError as exc:
        fail(str(exc))
        return
    run = _Run(m, scheme, store, quiet=quiet, make_pdf=make_pdf)
    todo = run.reuse(subs, force=force)
    interrupted = False
    if todo:
        try:
            run.grade(todo, workers or os.cpu_count() or 1, scheduler, time_limit=time_limit,
                      memory_mb=memory_limit)
        except KeyboardInterrupt:
            interrupted = True
        except ClusterError as exc:
            fail(str(exc))
    run.finish(subs, canvas_assignment, canvas_id_field)
    if interrupted:
        click.echo(f"interrupted: {len(run.records)} of {len(subs)} submissions graded; the gradebook holds "
                   "those; run the same command again to grade the rest", err=True)
        sys.exit(130)
    sys.exit(1 if any(r["status"] == "error" for r in run.records.values()) else 0)


class _Run:
    """One ``grade`` run: the records so far, and every file written from them."""

    def __init__(self, manifest: dict, scheme, store, *, quiet: bool, make_pdf: bool):
        from ..grade.grader import manifest_digest

        self.manifest, self.scheme, self.store = manifest, scheme, store
        self.quiet, self.make_pdf = quiet, make_pdf
        self.digest = manifest_digest(manifest)
        self.records: dict[str, dict] = {}
        self.keys: dict[str, str] = {}
        self.reused = 0
        self.fresh: set[str] = set()
        self.critical = self.interrupted = False

    def reuse(self, subs: list, *, force: bool) -> list:
        """Records already in the store for these submissions; those that need no worker made here; the rest."""
        from ..grade.grader import find_variant, guarded
        from ..grade.store import result_key

        todo = []
        for sub in subs:
            key = result_key(self.digest, self.scheme.as_dict(), sub.digest)
            self.keys[sub.id] = key
            stored = None if force else self.store.load(sub.id, key)
            if stored is not None:
                self.records[sub.id] = stored
                self.reused += 1
                if not all(self.store.has(f"feedback/{sub.id}.{x}") for x in ("md", "html")):
                    self.feedback(stored)       # deleted, or the last run stopped between the two
            elif sub.error is not None or find_variant(self.manifest, sub)[0] is None:
                self.record(guarded(self.manifest, sub, self.scheme, self.digest))
            else:
                todo.append(sub)
        return todo

    def feedback(self, record: dict) -> bool:
        """Write one student's feedback (a warning, not a stop, when it cannot be written)."""
        from ..grade.feedback import feedback_html, feedback_markdown

        sid = record["id"]
        try:
            self.store.write(f"feedback/{sid}.md", feedback_markdown(record, self.manifest))
            self.store.write(f"feedback/{sid}.html", feedback_html(record, self.manifest))
        except (OutputError, OSError) as exc:
            click.echo(f"symbackprop: warning: {exc}", err=True)
            return False
        return True

    def record(self, record: dict) -> None:
        """Keep one finished record; write its feedback, then its result (so a result on disk
        always has its feedback). A transient error (a limit, a dead worker) is not kept.
        Ctrl-C waits until the record is in the gradebook and on disk, or neither."""
        sid = record["id"]
        self.critical = True
        try:
            if self.feedback(record) and not record.get("transient"):
                try:
                    self.store.save(record, key=self.keys[sid])
                except (OutputError, OSError) as exc:
                    click.echo(f"symbackprop: warning: {exc}", err=True)
            self.records[sid] = record
            self.fresh.add(sid)
        finally:
            self.critical = False
        if self.interrupted:
            raise KeyboardInterrupt

    def _on_sigint(self, signum, frame) -> None:
        if self.critical:
            self.interrupted = True      # raised as soon as the record in hand is complete
        else:
            raise KeyboardInterrupt

    def grade(self, todo: list, workers: int, scheduler: str | None, *, time_limit: float, memory_mb: int,
              task: Callable | None = None) -> None:
        from ..grade.cluster import connect, grade_all, run_chunk

        client, cluster = connect(workers, scheduler, memory_mb=memory_mb)
        progress = _Progress(len(todo), self.quiet)
        previous = signal.signal(signal.SIGINT, self._on_sigint)
        try:
            def done(record: dict) -> None:
                self.record(record)
                progress.step()

            grade_all(client, self.manifest, todo, self.scheme, self.digest, on_record=done,
                      time_limit=time_limit, task=task or run_chunk)
        finally:
            signal.signal(signal.SIGINT, previous)
            progress.stop()
            client.close()
            if cluster is not None:
                cluster.close()

    def finish(self, subs: list, canvas_assignment: str | None, canvas_id_field: str = "SIS User ID") -> None:
        """The gradebook, the class report (and the PDFs) of every record there is, then a summary line."""
        from ..grade.classreport import class_report
        from ..grade.feedback import feedback_tex
        from ..grade.gradebook import canvas_gradebook_csv, gradebook_csv

        records = [self.records[s.id] for s in subs if s.id in self.records]
        files: dict[str, str | bytes] = {"gradebook.csv": gradebook_csv(records, self.manifest)}
        if canvas_assignment:
            files["gradebook-canvas.csv"] = canvas_gradebook_csv(records, self.manifest, canvas_assignment,
                                                                 id_field=canvas_id_field)
        files.update(class_report(records, self.manifest))
        if self.make_pdf:
            from ..render.pdf import LatexError, compile_all

            wanted = [r for r in records if r["id"] in self.fresh or not (self.store.root / "feedback" /
                                                                        f"{r['id']}.pdf").is_file()]
            try:
                pdfs = compile_all([(f"{r['id']}.tex", feedback_tex(r, self.manifest)) for r in wanted])
            except LatexError as exc:
                fail(f"{exc.message}; the feedback PDFs were not written", exc.lines)
                return
            files.update({f"feedback/{name}": data for name, data in pdfs})
        try:
            for name, data in sorted(files.items()):
                self.store.write(name, data)
        except (OutputError, OSError) as exc:
            fail(str(exc))
        graded = sum(r["status"] == "graded" for r in records)
        errors = len(records) - graded
        reused = f", {self.reused} unchanged since the last run" if self.reused else ""
        click.echo(f"graded {graded} of {len(subs)} submissions{reused}"
                   f"{f'; {errors} could not be graded (see gradebook.csv)' if errors else ''}", err=True)
        for name in ("gradebook.csv", "gradebook-canvas.csv", "class-report.html", "class-report.md"):
            if name in files:
                click.echo(f"wrote {self.store.root / name}", err=True)
        click.echo(f"wrote {self.store.root / 'feedback'}/ ({len(records)} students)", err=True)

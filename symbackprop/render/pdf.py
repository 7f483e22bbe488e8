r"""Compile LaTeX to PDF safely: pdfLaTeX in a scratch directory, never in the output directory.

* ``pdflatex -no-shell-escape -interaction=nonstopmode -halt-on-error`` with
  ``openin_any=p`` and ``openout_any=p`` (TeX may read and write only below the scratch
  directory, no dot files, no absolute paths), standard input closed;
* run again while LaTeX asks for it (at most three runs);
* every run has a timeout; on expiry the whole process group is killed, and so it is when
  the run is interrupted (Ctrl-C: :func:`stop_on_interrupt` also stops runs in other threads);
* ``SOURCE_DATE_EPOCH`` pinned, so the same ``.tex`` gives the same PDF bytes;
* a failure raises :class:`LatexError` carrying the relevant ``!`` lines of the log, and the
  caller has written nothing yet.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

DEFAULT_TIMEOUT = 120.0   # seconds per pdflatex run
MAX_RUNS = 5   # longtable settles its column widths over up to four runs
NO_TEX = ("--pdf needs pdflatex (TeX Live), which is not installed; install TeX Live (e.g. apt-get "
          "install texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-pictures) "
          "or leave out --pdf to write the .tex files only")
_RERUN = re.compile(r"Rerun to get|Rerun LaTeX|Label\(s\) may have changed|There were undefined references|"
                    r"Table widths have changed")


class LatexError(Exception):
    """pdfLaTeX is missing, failed, or timed out. ``lines`` are the log lines that explain why."""

    def __init__(self, message: str, lines: list[str] | None = None):
        self.message = message
        self.lines = lines or []
        super().__init__(message + ("".join("\n  " + line for line in self.lines)))


def pdflatex_path() -> str | None:
    """The pdflatex on PATH, or None."""
    return shutil.which("pdflatex")


def _environment(directory: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXINPUTS", "TEXMFOUTPUT"))}
    env.update({
        "openin_any": "p", "openout_any": "p", "shell_escape": "f",
        "TEXMFOUTPUT": str(directory), "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1",
        "max_print_line": "1000",
    })
    return env


def error_lines(log: str, limit: int = 12) -> list[str]:
    """The lines of a TeX log that say what went wrong: each ``!`` line and its ``l.<n>`` context.

    >>> error_lines("x\\n! Undefined control sequence.\\nl.12 \\\\foo\\n  \\nmore")
    ['! Undefined control sequence.', 'l.12 \\\\foo']
    """
    lines = log.splitlines()
    out: list[str] = []
    for i, line in enumerate(lines):
        if line.startswith("!"):
            out.append(line.rstrip())
            for follow in lines[i + 1:i + 8]:
                if re.match(r"l\.\d+", follow):
                    out.append(follow.rstrip())
                    break
        if len(out) >= limit:
            break
    return out


_CANCELLED = threading.Event()  # set by Ctrl-C under stop_on_interrupt: stop every pdflatex


@contextlib.contextmanager
def stop_on_interrupt() -> Iterator[None]:
    """While active, Ctrl-C (SIGINT) raises KeyboardInterrupt as usual and also kills every
    running pdflatex, in any thread, and refuses to start new ones. Main thread only; elsewhere
    it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupted(signum, frame):
        _CANCELLED.set()
        raise KeyboardInterrupt

    _CANCELLED.clear()
    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _CANCELLED.clear()


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: float) -> int:
    """Run one pdflatex in its own process group; kill the group on timeout or interruption."""
    if _CANCELLED.is_set():
        raise KeyboardInterrupt
    process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                return process.wait(timeout=max(0.0, min(0.2, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                if _CANCELLED.is_set():
                    raise KeyboardInterrupt from None
                if time.monotonic() >= deadline:
                    raise
    except BaseException:
        _kill_group(process)
        raise


def compile_pdf(tex: str, jobname: str = "document", *, timeout: float = DEFAULT_TIMEOUT,
                logs: list[str] | None = None) -> bytes:
    """Compile the LaTeX source ``tex`` and return the PDF's bytes (the last run's log is
    appended to ``logs`` when given).

    Raises :class:`LatexError` when pdflatex is missing, reports an error, or times out.
    """
    binary = pdflatex_path()
    if binary is None:
        raise LatexError(NO_TEX)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", jobname):
        jobname = "document"
    with tempfile.TemporaryDirectory(prefix="symbackprop-tex-") as scratch:
        directory = Path(scratch)
        source = directory / f"{jobname}.tex"
        source.write_text(tex, encoding="utf-8")
        command = [binary, "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error",
                   f"-jobname={jobname}", source.name]
        env = _environment(directory)
        log_path = directory / f"{jobname}.log"
        for _ in range(MAX_RUNS):
            try:
                code = _run(command, directory, env, timeout)
            except subprocess.TimeoutExpired:
                raise LatexError(f"pdflatex did not finish within {timeout:g} seconds and was stopped") from None
            log = log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""
            if code != 0:
                lines = error_lines(log) or [f"(pdflatex exited with status {code}; no error in the log)"]
                raise LatexError(f"pdflatex failed on {jobname}.tex", lines)
            if not _RERUN.search(log):
                break
        if logs is not None:
            logs.append(log)
        pdf = directory / f"{jobname}.pdf"
        if not pdf.exists():
            raise LatexError(f"pdflatex produced no PDF for {jobname}.tex", error_lines(log))
        return pdf.read_bytes()


def compile_all(texts: list[tuple[str, str]]) -> list[tuple[str, bytes]]:
    """Compile every ``.tex`` (in parallel, each in its own scratch directory) to PDF bytes."""
    jobs = [(name[:-len(".tex")], tex) for name, tex in texts]
    workers = max(1, min(len(jobs), os.cpu_count() or 1, 4))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pdfs = list(pool.map(lambda job: compile_pdf(job[1], job[0]), jobs))
    return [(f"{stem}.pdf", pdf) for (stem, _), pdf in zip(jobs, pdfs)]

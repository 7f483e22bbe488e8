"""Benchmark: a whole exam for a class — ``symbackprop exam SPEC --variants N --pdf`` step by step.

    python benchmarks/exam.py                  # WE-5, 100 variants (the issue's target: ≤ 2 minutes)
    python benchmarks/exam.py --variants 10    # a quick run
    python benchmarks/exam.py --spec examples/conv1d-maxpool.yaml

Steps, timed once each in one process (the command does them in this order): drawing the
variants (every attempt derived and held to the rules), the manifest, the two books and the
key (LaTeX), the key CSV, and compiling the three PDFs with pdflatex (in parallel, 2 cores
here). The anchor beside it is the same command's own end-to-end time in a fresh process
(``python -m symbackprop exam …``), which includes start-up and writing; the ratio of every
step is over that total.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from symbackprop import load_spec  # noqa: E402
from symbackprop.exams.manifest import build_manifest, key_csv  # noqa: E402
from symbackprop.exams.randomize import draw_plan, exam_title  # noqa: E402
from symbackprop.exams.rules import RULES  # noqa: E402
from symbackprop.exams.variants import DrawLog, draw_variants  # noqa: E402
from symbackprop.render.book import exam_books  # noqa: E402
from symbackprop.render.key import key_tex  # noqa: E402
from symbackprop.render.options import RenderOptions  # noqa: E402
from symbackprop.render.pdf import compile_all, pdflatex_path  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _pages(pdf: bytes) -> str:
    """The page count by poppler's pdfinfo ("?" without it)."""
    try:
        info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, timeout=60).stdout.decode()
    except OSError:
        return "?"
    return next((line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")), "?")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default=str(ROOT / "examples" / "we05-221-sigmoid.yaml"))
    parser.add_argument("--variants", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    spec = load_spec(args.spec)
    plan = draw_plan(spec, tuple(RULES))
    log = DrawLog()
    rows = []
    t, variants = timed(lambda: draw_variants(spec, args.variants, args.seed, log=log, plan=plan))
    rows.append((f"draw {len(variants)} variants ({log.attempts} attempts)", t))
    t, manifest = timed(lambda: build_manifest(spec, variants, seed=args.seed, questions=None, sig=3))
    rows.append(("manifest", t))
    questions = [{"name": q["name"], "only": [], "marks": q["marks"], "figures": len(q["answers"])}
                 for q in manifest["questions"]]
    t, (books, _) = timed(lambda: exam_books([(v.derivation, v.number, v.id) for v in variants],
                                             RenderOptions(sig=3), questions=questions,
                                             title=exam_title(spec, plan), seed=args.seed))
    rows.append(("problem and solution books (LaTeX)", t))
    t, key = timed(lambda: key_tex(manifest, exam_title(spec, plan)))
    rows.append(("marking key (LaTeX)", t))
    t, _ = timed(lambda: key_csv(manifest))
    rows.append(("marking key (CSV)", t))
    if pdflatex_path():
        texts = [(f"{kind}.tex", tex) for kind, tex in books] + [("key.tex", key)]
        t, pdfs = timed(lambda: compile_all(texts))
        pages = [_pages(pdf) for _, pdf in pdfs]
        rows.append((f"3 PDFs ({' + '.join(map(str, pages))} pages)", t))
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "symbackprop", "exam", args.spec, "--variants", str(args.variants),
                   "--seed", str(args.seed), "-o", out] + (["--pdf"] if pdflatex_path() else [])
        total, proc = timed(lambda: subprocess.run(command, capture_output=True, text=True))
        if proc.returncode != 0:
            sys.exit(proc.stderr)
    print(f"symbackprop exam {Path(args.spec).name} --variants {args.variants}"
          f"{' --pdf' if pdflatex_path() else ''} (one run)\n")
    print(f"| step | seconds | of the command |\n| --- | ---: | ---: |")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.2f} | {seconds / total:.2f} |")
    print(f"| **the command, end to end (fresh process)** | **{total:.2f}** | 1.00 |")


if __name__ == "__main__":
    main()

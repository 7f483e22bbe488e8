"""Benchmark: grading a class — ``symbackprop grade`` on 1 and 2 Dask workers against a ``check`` loop.

    python benchmarks/grade.py                     # 1,000 students (the issue's size)
    python benchmarks/grade.py --students 200 --sample 20

Makes an exam with a roster of N students (``symbackprop exam --roster``), a synthetic class
(``benchmarks/make_class.py``: right, slipped and broken submissions), then times, in this
one run and as fresh processes each:

* ``symbackprop grade MANIFEST CLASS --workers 1`` and ``--workers 2``, end to end (start-up,
  the cluster, grading, every feedback file, the gradebook and the class report);
* the anchor: the per-student loop an instructor runs today, ``symbackprop check VARIANT
  --solution FILE`` once per student, on the first ``--sample`` YAML submissions (the loop's
  rate is the same for every student: start-up dominates), scaled to N.

Prints a Markdown table: seconds, submissions per second and the ratio over the check loop,
and the resident memory of each worker after grading (read from the workers by Dask).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.make_class import make_class  # noqa: E402
from symbackprop.exams.manifest import load_manifest, variant_spec  # noqa: E402

CLI = [sys.executable, "-m", "symbackprop"]


def timed(command: list[str], ok: tuple[int, ...] = (0, 1)) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - start
    if done.returncode not in ok:
        raise SystemExit(f"{' '.join(command[:4])} … failed: {done.stderr[-500:]}")
    return elapsed


def worker_memory(manifest: Path, folder: Path, workers: int, out: Path) -> list[float]:
    """Grade in this process on a fresh local cluster and read each worker's resident MiB afterwards."""
    from symbackprop.grade.cluster import connect, grade_all
    from symbackprop.grade.grader import manifest_digest
    from symbackprop.grade.inputs import read_submissions
    from symbackprop.grade.marks import Scheme

    m = load_manifest(manifest)
    subs = [s for s in read_submissions([folder], m) if s.error is None]
    client, cluster = connect(workers)
    try:
        grade_all(client, m, subs, Scheme(), manifest_digest(m), on_record=lambda r: None)

        def rss() -> int:
            import psutil
            return psutil.Process().memory_info().rss

        return sorted(v / 2**20 for v in client.run(rss).values())
    finally:
        client.close()
        cluster.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=40, help="students the check loop is timed on")
    parser.add_argument("--spec", default="examples/we05-221-sigmoid.yaml")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="symbackprop-grade-bench-"))
    roster = work / "roster.csv"
    roster.write_text("id\n" + "".join(f"s{i:04d}\n" for i in range(1, args.students + 1)))
    start = time.perf_counter()
    subprocess.run([*CLI, "exam", args.spec, "--roster", str(roster), "-o", str(work / "exam")], check=True,
                   capture_output=True, cwd=ROOT)
    exam_seconds = time.perf_counter() - start
    manifest = next((work / "exam").glob("*-variants.json"))
    counts = make_class(manifest, work / "class")

    rows = []
    for workers in (1, 2):
        seconds = timed([*CLI, "grade", str(manifest), str(work / "class"), "-o", str(work / f"graded-{workers}"),
                         "--workers", str(workers), "--quiet"])
        rows.append((f"`grade --workers {workers}`", args.students, seconds))
    same = all((work / "graded-1" / f).read_bytes() == (work / "graded-2" / f).read_bytes()
               for f in ("gradebook.csv", "class-report.md"))

    m = load_manifest(manifest)
    sample = sorted((work / "class").glob("*.yaml"))[:args.sample]
    specs = work / "specs"
    specs.mkdir()
    loop = 0.0
    for path in sample:
        spec = specs / f"{path.stem}.yaml"
        spec.write_text(yaml.safe_dump(dict(variant_spec(m, path.stem).raw), sort_keys=False))
        loop += timed([*CLI, "check", str(spec), "--solution", str(path), "--seed", "1"], ok=(0, 1, 2))
    per_student = loop / len(sample)
    rows.append((f"`check` loop (timed on {len(sample)}, ×{args.students / len(sample):g})", args.students,
                 per_student * args.students))
    memory = worker_memory(manifest, work / "class", 2, work / "memory")

    anchor = rows[-1][2]
    print(f"# Grading {args.students} students ({args.spec}; {os.cpu_count()} cores; one run)\n")
    print(f"Class: {json.dumps(counts, sort_keys=True)}  \nExam drawn in {exam_seconds:.1f} s. "
          f"Outputs of 1 and 2 workers byte-identical: {same}.\n")
    print("| run | submissions | seconds | submissions/s | × the check loop |")
    print("|---|---:|---:|---:|---:|")
    for name, n, seconds in rows:
        print(f"| {name} | {n} | {seconds:.1f} | {n / seconds:.1f} | {anchor / seconds:.1f} |")
    print(f"\nResident memory per worker after grading (2 workers): {', '.join(f'{x:.0f}' for x in memory)} MiB")


if __name__ == "__main__":
    main()

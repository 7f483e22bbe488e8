"""Benchmark: exporting exam variants to the learning platforms (symbackprop.lms).

    python benchmarks/lms_export.py                 # WE-5, 30 and 100 variants
    python benchmarks/lms_export.py --variants 10   # a quick run

For each count: drawing the variants and building the manifest (``symbackprop exam``'s part),
reading the manifest into the exam every exporter uses (``load_exam``: each variant derived
again, its picture, problem and worked solution rendered), then each exporter on that exam;
and the size of each output. Times are the best of ``--repeat`` runs; the ratios are over the
time to draw the variants, so they stay comparable on a loaded machine.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from symbackprop import load_spec, spec_from_mapping  # noqa: E402
from symbackprop.exams.manifest import build_manifest  # noqa: E402
from symbackprop.exams.variants import draw_variants  # noqa: E402
from symbackprop.lms import EXPORTERS  # noqa: E402
from symbackprop.lms.source import load_exam  # noqa: E402


def best(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="30,100", help="comma-separated variant counts")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    raw = dict(load_spec(ROOT / "examples" / "we05-221-sigmoid.yaml").raw)
    spec = spec_from_mapping({**raw, "randomize": {"params": {"low": -1, "high": 1, "step": 0.1}}},
                             file=str(ROOT / "examples" / "we05-221-sigmoid.yaml"))
    print("| variants | step | seconds | × drawing | output |")
    print("| ---: | --- | ---: | ---: | ---: |")
    for count in (int(c) for c in args.variants.split(",")):
        t_draw, manifest = best(lambda: build_manifest(spec, draw_variants(spec, count, seed=7), seed=7,
                                                        questions=None, sig=3), args.repeat)
        print(f"| {count} | draw + manifest | {t_draw:.2f} | 1.00 | |")
        t_exam, exam = best(lambda: load_exam(manifest), args.repeat)
        print(f"| {count} | load_exam (derive, picture, HTML) | {t_exam:.2f} | {t_exam / t_draw:.2f} | |")
        for name, exporter in EXPORTERS.items():
            t, files = best(lambda: exporter.write(exam), args.repeat)
            size = sum(len(b) for b in files.values())
            print(f"| {count} | {name} | {t:.2f} | {t / t_draw:.2f} | {size / 1e6:.2f} MB in {len(files)} file(s) |")
        t_grade = grade_time(exam, manifest, args.repeat)
        print(f"| {count} | PrairieLearn grade() of one submission | {t_grade:.2f} | {t_grade / t_draw:.2f} | |")
    return 0


def grade_time(exam, manifest: dict, repeat: int) -> float:
    """One ``server.py`` grade of variant 1 answered with the key's figures (what a student waits for)."""
    with tempfile.TemporaryDirectory() as tmp:
        for rel, data in EXPORTERS["prairielearn"].write(exam).items():
            (Path(tmp) / rel).parent.mkdir(parents=True, exist_ok=True)
            (Path(tmp) / rel).write_bytes(data)
        spec = importlib.util.spec_from_file_location("pl_server", Path(tmp) / "server.py")
        server = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(server)
        base = {"params": {}, "correct_answers": {}, "variant_seed": 0, "options": {"question_path": tmp}}
        server.generate(base)
        raw = {n: a["shown"] for n, a in manifest["variants"][0]["answers"].items()}

        def once():
            data = dict(base, raw_submitted_answers=raw, partial_scores={}, feedback={}, format_errors={})
            server.grade(data)
            assert data["score"] == 1.0, data["feedback"]
        return best(once, max(repeat, 3))[0]


if __name__ == "__main__":
    sys.exit(main())

"""The worked example of docs/commands/grade.md, run for real: a class of 200 from roster to gradebook,
and screenshots of its class report and of one student's feedback from a headless Chromium.

    python scripts/grade_gallery.py            # writes docs/gallery/grade-class-report.png, grade-feedback.png
    python scripts/grade_gallery.py --keep     # and prints where the graded folder is

Needs Debian's chromium (/usr/bin/chromium).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "gallery"
CHROMIUM = ["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--hide-scrollbars"]


def run(*args: str) -> None:
    subprocess.run([sys.executable, *args], check=True, cwd=ROOT, capture_output=True)


def shot(page: Path, png: Path, height: int, profile: Path) -> None:
    subprocess.run([*CHROMIUM, f"--user-data-dir={profile}", f"--screenshot={png}", f"--window-size=1000,{height}",
                    page.as_uri()], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="symbackprop-grade-gallery-"))
    (work / "roster.csv").write_text("id\n" + "".join(f"s{i:04d}\n" for i in range(1, 201)))
    run("-m", "symbackprop", "exam", "examples/we05-221-sigmoid.yaml", "--roster", str(work / "roster.csv"),
        "-o", str(work / "exam"))
    manifest = work / "exam" / "we05-221-sigmoid-variants.json"
    run("benchmarks/make_class.py", str(manifest), str(work / "submissions"))
    done = subprocess.run([sys.executable, "-m", "symbackprop", "grade", str(manifest), str(work / "submissions"),
                           "-o", str(work / "graded"), "--quiet"], cwd=ROOT, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(done.stderr)
    print(done.stderr, end="")
    # the first student the lecture's slip (updated weights) caught: their feedback shows ECF
    slipped = next(r["record"]["id"] for r in (json.loads(p.read_text()) for p in
                                               sorted((work / "graded" / "results").glob("*.json")))
                   if r["record"].get("likely_cause") == "updated_weights")
    OUT.mkdir(parents=True, exist_ok=True)
    shot(work / "graded" / "class-report.html", OUT / "grade-class-report.png", 1700, work / "chromium")
    shot(work / "graded" / "feedback" / f"{slipped}.html", OUT / "grade-feedback.png", 1500, work / "chromium")
    print(f"wrote {OUT / 'grade-class-report.png'}\nwrote {OUT / 'grade-feedback.png'} ({slipped})")
    if args.keep:
        print(f"graded folder: {work / 'graded'}")


if __name__ == "__main__":
    main()

"""Make docs/gallery/: the first page of every document kind as a PNG, so a reader sees the output
before installing. Needs TeX Live and poppler (pdftoppm). Rerun after changing a template:

    python scripts/gallery.py            # writes docs/gallery/*.png
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from symbackprop.cli.render import compile_all, documents
from symbackprop.render.options import RenderOptions

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "gallery"
PAGES = [  # (example, template, notation, picture name, options)
    ("we05-221-sigmoid", "derivation", "scalar", "derivation", {}),
    ("we05-221-sigmoid", "solution", "scalar", "solution", {}),
    ("we05-221-sigmoid-updated", "solution", "scalar", "solution-lecture-variant", {}),
    ("we02-paths-3-3-3-3-2", "paths", "scalar", "paths", {"wrt": ("w1_1_1",)}),
    ("we05-221-sigmoid", "exam", "scalar", "exam", {"sig": 4}),
    ("we10-matrix", "matrix", "scalar", "matrix", {}),
    ("we10-matrix", "solution", "matrix", "solution-matrix", {}),
]


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for example, template, notation, picture, options in PAGES:
        texts = documents(ROOT / "examples" / f"{example}.yaml", template, "backprop",
                          RenderOptions(course="Neural networks", **options), None, 0, notation=notation)
        name, pdf = compile_all(texts[:1])[0]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_bytes(pdf)
            subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", "-singlefile", str(path),
                            str(OUT / picture)], check=True)
        print(f"wrote {OUT / picture}.png", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

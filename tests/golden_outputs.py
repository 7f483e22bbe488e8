"""Every output the CLI writes for the shipped examples, as ``name -> sha256`` (the golden manifest).

``python tests/golden_outputs.py --write`` regenerates ``tests/data/golden-outputs.json`` from the
code in this tree; ``tests/test_golden_outputs.py`` asserts the code still produces the same bytes.
A refusal (a template or option that does not apply to an example) is recorded by its message.
"""
from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "tests" / "data" / "golden-outputs.json"
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.yaml") if not p.name.endswith("-lecture-answers.yaml"))

DERIVE_RUNS = {
    "json": ["--format", "json"],
    "text": [],
    "exact": ["--format", "json", "--exact"],
    "matrix": ["--format", "json", "--notation", "matrix"],
    "paths": ["--format", "json", "--method", "paths"],
    "stats": ["--format", "json", "--stats", "--no-expanded"],
    "text-exact": ["--exact"],
    "text-matrix": ["--notation", "matrix"],
}
RENDER_RUNS = {
    "derivation": ["--template", "derivation"],
    "paths": ["--template", "paths"],
    "solution": ["--template", "solution"],
    "solution-matrix": ["--template", "solution", "--notation", "matrix"],
    "matrix": ["--template", "matrix"],
    "exam": ["--template", "exam"],
}


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def outputs_of(example: Path) -> dict[str, str]:
    """``"<example>/<run>[/<file>]" -> sha256`` of what the CLI writes for one example (or of its
    one-line refusal), run from the repository root with the spec's relative path."""
    import os

    from click.testing import CliRunner

    from symbackprop.cli.main import main

    runner = CliRunner()
    out: dict[str, str] = {}
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        spec = example.relative_to(ROOT)
        for run, args in DERIVE_RUNS.items():
            res = runner.invoke(main, ["derive", str(spec), *args], catch_exceptions=False)
            key = f"{spec.stem}/derive-{run}"
            out[key] = _digest(res.stdout_bytes) if res.exit_code == 0 else f"exit {res.exit_code}: " + \
                _digest(res.stderr_bytes)
        for run, args in RENDER_RUNS.items():
            with tempfile.TemporaryDirectory() as tmp:
                res = runner.invoke(main, ["render", str(spec), *args, "-o", tmp], catch_exceptions=False)
                key = f"{spec.stem}/render-{run}"
                if res.exit_code != 0:
                    out[key] = f"exit {res.exit_code}: " + _digest(res.stderr_bytes)
                    continue
                for file in sorted(Path(tmp).iterdir()):
                    out[f"{key}/{file.name}"] = _digest(file.read_bytes())
    finally:
        os.chdir(here)
    return out


def outputs() -> dict[str, str]:
    """The golden manifest: :func:`outputs_of` every shipped example."""
    return {key: digest for spec in EXAMPLES for key, digest in outputs_of(spec).items()}


if __name__ == "__main__":
    found = outputs()
    if "--write" in sys.argv:
        MANIFEST.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
        print(f"wrote {MANIFEST} ({len(found)} outputs)")
    else:
        print(json.dumps(found, indent=1, sort_keys=True))

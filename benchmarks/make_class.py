"""A synthetic class: one submission per variant of an exam manifest, a mix of right, slipped and broken.

    python benchmarks/make_class.py output/exam/we05-221-sigmoid-variants.json output/class
    python benchmarks/make_class.py MANIFEST FOLDER --seed 1

What each student hands in is drawn (seeded, so the same class every time) from:

* right (35 %): every figure as the key shows it;
* a sign slip (15 %): δ of the output written with the wrong sign, everything else right;
* the lecture's slip (15 %): the hidden δs, gradients and update worked through the *updated*
  output weights (a real derivation of ``backprop_weights: updated``, so the later figures
  follow from the wrong ones: error carried forward);
* too few digits (10 %): every figure to one significant figure;
* the second pass left out (10 %);
* broken (15 %): binary bytes, invalid YAML, a line that is not ``name = value``, a file of
  300 kB, a YAML bomb of nested lists, an ID the manifest does not know.

Files are ``<id>.yaml``, ``<id>.txt`` or ``<id>.csv`` in turn. The figures of the slips are
computed by symbackprop's derivation of the slipped spec, not by the grader under test.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from symbackprop import derive, spec_from_mapping  # noqa: E402
from symbackprop.exams.figures import shown  # noqa: E402
from symbackprop.exams.manifest import load_manifest, variant_spec  # noqa: E402
from symbackprop.exams.questions import asked  # noqa: E402

KINDS = [("right", 35), ("sign", 15), ("updated", 15), ("coarse", 10), ("no_second_pass", 10), ("broken", 15)]
BROKEN = ["binary", "bad_yaml", "bad_line", "huge", "deep", "unknown_id"]


def _write(folder: Path, sid: str, figures: dict[str, str], form: int) -> str:
    if form == 0:
        (folder / f"{sid}.yaml").write_text("solution:\n" + "".join(f"  {n}: {v}\n" for n, v in figures.items()))
        return f"{sid}.yaml"
    if form == 1:
        (folder / f"{sid}.txt").write_text("".join(f"{n} = {v}\n" for n, v in figures.items()))
        return f"{sid}.txt"
    (folder / f"{sid}.csv").write_text("name,value\n" + "".join(f"{n},{v}\n" for n, v in figures.items()))
    return f"{sid}.csv"


def _updated(manifest: dict, variant: dict, sig: int) -> dict[str, str]:
    """The figures of the lecture's slip: the variant derived with backprop_weights: updated."""
    raw = dict(variant_spec(manifest, variant).raw)
    raw["backprop_weights"] = "updated"
    d = derive(spec_from_mapping(raw), strict_variant=False)
    out = {}
    for q in asked(d, [q["name"] for q in manifest["questions"]]):
        for name, value in q.figures(d):
            out[name] = shown(value, sig)
    return out


def broken(folder: Path, sid: str, kind: str) -> str:
    """One hostile or malformed file."""
    if kind == "binary":
        (folder / f"{sid}.yaml").write_bytes(bytes(range(256)) * 4)
        return f"{sid}.yaml"
    if kind == "bad_yaml":
        (folder / f"{sid}.yaml").write_text("solution:\n  out_T: [0.5\n  net_T: {\n")
        return f"{sid}.yaml"
    if kind == "bad_line":
        (folder / f"{sid}.txt").write_text("out_T = 0.5\nthe rest I could not do\n")
        return f"{sid}.txt"
    if kind == "huge":
        (folder / f"{sid}.txt").write_text("out_T = 0.5\n" + "# padding\n" * 30_000)
        return f"{sid}.txt"
    if kind == "deep":
        (folder / f"{sid}.yaml").write_text("solution: " + "[" * 5000 + "]" * 5000 + "\n")
        return f"{sid}.yaml"
    (folder / f"zz-unknown-{sid}.txt").write_text("out_T = 0.5\n")
    return f"zz-unknown-{sid}.txt"


def make_class(manifest_path: Path, folder: Path, seed: int = 0) -> dict[str, int]:
    """Write one submission per variant into ``folder``; return how many of each kind."""
    manifest = load_manifest(manifest_path)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    kinds = [k for k, w in KINDS for _ in range(w)]
    counts: dict[str, int] = {}
    for i, v in enumerate(manifest["variants"]):
        sid, kind = v["id"], rng.choice(kinds)
        right = {n: a["shown"] for n, a in v["answers"].items()}
        if kind == "broken":
            kind = f"broken:{BROKEN[i % len(BROKEN)]}"
            broken(folder, sid, kind.split(":")[1])
        else:
            figures = dict(right)
            if kind == "sign":
                delta = next(n for n in figures if n.startswith("delta_"))
                figures[delta] = figures[delta][1:] if figures[delta].startswith("-") else "-" + figures[delta]
            elif kind == "updated":
                figures.update({n: x for n, x in _updated(manifest, v, manifest["sig"]).items() if n in figures})
            elif kind == "coarse":
                figures = {n: shown(a["value"], 1) if "." in shown(a["value"], 1) else right[n]
                           for n, a in v["answers"].items()}
            elif kind == "no_second_pass":
                figures = {n: x for n, x in figures.items() if not n.endswith("_after")}
            _write(folder, sid, figures, i % 3)
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(json.dumps(make_class(args.manifest, args.folder, args.seed), indent=1, sort_keys=True))


if __name__ == "__main__":
    main()

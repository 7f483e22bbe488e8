"""The marking key: one table per question with every variant's expected figures, read from the
exam's variant manifest (plain data; nothing is derived or computed here).

Columns are the question's figures (at most :data:`COLUMNS` to a table, the rest continue in
the next), rows the variants (student IDs with a roster). A figure is marked right within its
tolerance: half a unit in its last shown digit unless the spec's ``marking:`` says otherwise,
in which case every cell shows its own ``± tolerance``.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..latex import figure_tex
from ..templating import render

COLUMNS = 7


def _half_unit_everywhere(manifest: Mapping[str, Any]) -> bool:
    """Whether every tolerance is half a unit of the shown figure's last digit."""
    for v in manifest["variants"]:
        for a in v["answers"].values():
            shown = a["shown"].lstrip("-")
            if "e" in shown:
                return False
            decimals = len(shown.partition(".")[2])
            if shown.isdigit() and len(shown) > manifest["sig"]:   # 1230000: the unit is 10**(len - sig)
                unit = 10.0 ** (len(shown) - manifest["sig"])
            else:
                unit = 10.0 ** -decimals
            if abs(a["tolerance"] - unit / 2) > 1e-9 * unit:
                return False
    return True


def key_context(manifest: Mapping[str, Any], title: str) -> dict:
    """Everything ``exam-key.tex.j2`` shows."""
    spec = manifest["spec"]
    loss = str(manifest.get("loss", "E"))
    names = [a for q in manifest["questions"] for a in q["answers"]]
    params = {n[:-len("_new")] for n in names if n.endswith("_new")}
    params |= {n[len(loss) + 2:] for n in names if n.startswith(f"d{loss}_d")}
    plain = _half_unit_everywhere(manifest)
    tables = []
    for q in manifest["questions"]:
        names = q["answers"]
        for start in range(0, len(names), COLUMNS):
            chunk = names[start:start + COLUMNS]
            rows = []
            for v in manifest["variants"]:
                cells = []
                for n in chunk:
                    a = v["answers"][n]
                    cells.append(a["shown"] if plain else f"{a['shown']} \\pm {a['tolerance']:.2g}")
                rows.append({"id": v["id"], "cells": cells})
            tables.append({"title": q["title"], "marks": q["marks"], "continued": start > 0,
                           "heads": [figure_tex(n, loss, params) for n in chunk], "rows": rows})
    doc = {"name": manifest["spec_name"], "title": title, "kind": "Marking key", "tagline": "",
           "description": "", "remarks": [], "subtitle": "", "course": str(spec.get("course", "")),
           "sheet": str(spec.get("sheet", "")), "notes": [], "edition": "instructor"}
    return {"doc": doc, "tables": tables, "count": len(manifest["variants"]), "seed": manifest["seed"],
            "sig": manifest["sig"], "plain": plain, "loss": loss,
            "total": sum(q["marks"] for q in manifest["questions"])}


def key_tex(manifest: Mapping[str, Any], title: str) -> str:
    """The marking key's LaTeX."""
    return render("exam-key.tex.j2", **key_context(manifest, title))

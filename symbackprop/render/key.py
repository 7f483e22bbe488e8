"""The marking key: one table per question with every variant's expected figures, read from the
exam's variant manifest (plain data; nothing is derived or computed here).

Columns are the question's figures (at most :data:`COLUMNS` to a table, 4 with tolerances, the
rest continue in the next), rows the variants (student IDs with a roster). A figure is marked
right within its tolerance: half a unit in its last shown digit (the manifest's ``tolerance:
half_unit``) unless the spec's ``marking:`` says otherwise, in which case every cell shows its
own ``± tolerance``.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..latex import figure_tex
from ..templating import render

COLUMNS = 7


def tex_number(x: float) -> str:
    r"""A tolerance in TeX, two significant figures: ``0.005``, ``5\cdot 10^{-5}``.

    >>> tex_number(0.005), tex_number(5e-05)
    ('0.005', '5\\cdot 10^{-5}')
    """
    text = f"{x:.2g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    return f"{mantissa}\\cdot 10^{{{int(exponent)}}}"


def key_context(manifest: Mapping[str, Any], title: str) -> dict:
    """Everything ``exam-key.tex.j2`` shows."""
    spec = manifest["spec"]
    loss = str(manifest.get("loss", "E"))
    names = [a for q in manifest["questions"] for a in q["answers"]]
    params = {n[:-len("_new")] for n in names if n.endswith("_new")}   # what figure_tex needs to know
    plain = manifest.get("tolerance") == "half_unit"     # else the spec's marking rules: each cell its own
    columns = COLUMNS if plain else 4
    tables = []
    for q in manifest["questions"]:
        names = q["answers"]
        for start in range(0, len(names), columns):
            chunk = names[start:start + columns]
            rows = []
            for v in manifest["variants"]:
                cells = []
                for n in chunk:
                    a = v["answers"][n]
                    cells.append(a["shown"] if plain else f"{a['shown']} \\pm {tex_number(a['tolerance'])}")
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

"""The multivariate chain rule document: every edge's local derivative and every parameter's paths to the loss."""
from __future__ import annotations

import sympy as sp

from ..derive import Derivation
from ..graph import NodeKind
from ..latex import latex_name, to_latex
from .front import document_front, network_context
from .texmath import Namer, fmt, pairs, partial, row
from .view import View, forward_rows, loss_rows

PATHS_PER_PARAMETER = 20      # paths listed per parameter in the paths document


PATHS_LISTED = 120            # paths listed in the whole paths document


def paths_section(d: Derivation, view: View) -> dict:
    """Each parameter's paths (listing capped), their products, and the cached result they sum to
    (checked in numbers by derive: ``d.path_check``)."""
    namer = Namer(False)
    g = view.g
    check = d.path_check
    where = check.where if check is not None else ""
    listed = 0
    params = []
    for name, entry in d.gradients.items():
        paths = entry.paths or ()
        shown = []
        for term in paths:
            if len(shown) >= PATHS_PER_PARAMETER or listed >= PATHS_LISTED:
                break
            chain = r" \to ".join(namer.tex(g.nodes[n]["symbol"]) if n != d.network.root else view.loss
                                  for n in term.nodes)
            factors = [f for f in term.factors if f != 1] or [sp.Integer(1)]
            shown.append({"chain": chain, "product": r" \cdot ".join(namer.factor(f) for f in factors)})
            listed += 1
        cached_expr = d.cached[name]
        value = fmt(check.values[name], 6) if check is not None else ""
        params.append({
            "name": latex_name(name), "lhs": partial(view.loss, latex_name(name)),
            "slashed": partial(view.loss, latex_name(name), slash=True), "count": entry.path_count, "paths": shown, "more": entry.path_count - len(shown),
            "cached": to_latex(cached_expr), "value": value,
        })
    return {"parameters": params, "where": where, "listed": listed,
            "total": sum(p["count"] for p in params)}


def paths_context(d: Derivation) -> dict:
    """Everything ``paths.tex.j2`` shows (``d`` derived with ``method="paths"``)."""
    view = View(d)
    section = paths_section(d, view)
    return {
        "doc": document_front(d, "The multivariate chain rule: every path to the loss"),
        "network": network_context(view),
        "forward": forward_rows(view),
        "loss": loss_rows(view),
        "edges": _edge_rows(view),
        "edge_pairs": pairs(_edge_rows(view)),
        "paths": section,
        "generic": view.generic,
        "limits": {"per_parameter": PATHS_PER_PARAMETER, "total": PATHS_LISTED},
    }


def _edge_rows(view: View) -> list[dict]:
    """The local derivative on every edge that lies on a path from a parameter to the loss
    (example 1's edges, written for example n, with data)."""
    import networkx as nx

    g = view.g
    namer = Namer(view.generic)
    on_path = set()
    for w in view.d.gradients:
        on_path |= ({w} | nx.descendants(g, w)) & view.relevant
    rows = []
    for v in view.network.order:
        if v not in on_path or not (view.shown(g.nodes[v]["example"]) or v == view.network.root):
            continue
        for u in g.predecessors(v):
            if u not in on_path or not (view.shown(g.nodes[u]["example"]) or g.nodes[u]["kind"] == NodeKind.PARAM):
                continue
            top = view.loss if v == view.network.root else namer.tex(view.sym(v))
            rows.append(row(partial(top, namer.tex(view.sym(u))), namer.tex(view.label(u, v))))
    return rows

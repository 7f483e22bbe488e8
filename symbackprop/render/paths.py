"""The multivariate chain rule document: every edge's local derivative and every parameter's paths to the loss."""
from __future__ import annotations

import sympy as sp

from ..derive import Derivation
from ..graph import NodeKind
from ..latex import latex_name, to_latex
from .front import document_front, network_context
from .options import RenderOptions
from .texmath import LINE_WIDTH, Namer, broken_tex, factor_lines, fmt, pairs, partial, row, visual_width
from .view import View, forward_rows, loss_rows

PATHS_PER_PARAMETER = 20      # paths listed per parameter by default (all of them with --wrt, up to PATHS_CHOSEN)
PATHS_LISTED = 40             # paths listed in the whole document by default: whole parameters while they fit
PATHS_CHOSEN = 200            # paths listed per parameter chosen with --wrt
PRODUCT_WIDTH = 340.0         # estimated points of a path's product on one line of the indented list


def paths_section(d: Derivation, view: View, options: RenderOptions = RenderOptions()) -> dict:
    """Each parameter's paths, their products and the cached result they sum to. By default whole
    parameters are listed while they fit in :data:`PATHS_LISTED` (at most :data:`PATHS_PER_PARAMETER`
    each); ``options.wrt`` lists those parameters' paths instead. Values are the given ones when the
    spec has numbers; the test point of derive's own check (``d.path_check``) is shown only with
    ``options.show_checks``."""
    namer = view.namer(False)
    g = view.g
    check = d.path_check
    given = d.numbers.gradients if d.numbers is not None else None
    where = "at the given values" if given is not None else (
        check.where if check is not None and options.show_checks else "")
    listed, params, full = 0, [], False
    for name, entry in d.gradients.items():
        count, paths = entry.path_count, entry.paths or ()
        if options.wrt:
            chosen, cap = name in options.wrt, PATHS_CHOSEN
        else:  # in order, until the first that does not fit
            cap = PATHS_PER_PARAMETER
            full = full or (listed > 0 and listed + min(count, cap) > PATHS_LISTED)
            chosen = not full
        shown = []
        for term in (paths if chosen else ())[:cap]:
            chain = r" \to ".join(namer.tex(g.nodes[n]["symbol"]) if n != d.network.root else view.loss
                                  for n in term.nodes)
            factors = [namer.factor(f) for f in term.factors if f != 1] or ["1"]
            shown.append({"chain": chain, "product": factor_lines(factors, PRODUCT_WIDTH)})
        listed += len(shown)
        value = (fmt(given[name], options.precision) if given is not None
                 else fmt(check.values[name], 6) if where and check is not None else "")
        slashed = partial(view.loss, latex_name(name), slash=True)
        params.append({
            "name": latex_name(name), "lhs": partial(view.loss, latex_name(name)), "chosen": chosen,
            "slashed": slashed, "count": count, "paths": shown, "more": count - len(shown),
            "cached": to_latex(d.cached[name]), "cached_lines": _cached_lines(d.cached[name], slashed),
            "value": value,
        })
    skipped = [p for p in params if not p["chosen"]]
    return {"parameters": params, "where": where, "listed": listed,
            "total": sum(p["count"] for p in params),
            "skipped": {"count": len(skipped), "paths": sum(p["count"] for p in skipped)}}


def _cached_lines(expr: sp.Expr, lhs: str) -> list[str]:
    """The cached result in lines that fit the page: one (shown inline) when it is short, else a
    long sum broken between its terms (a product between its factors)."""
    room = LINE_WIDTH - visual_width(lhs) - 25
    return broken_tex(expr, room, max_lines=12) or [to_latex(expr)]


def paths_context(d: Derivation, options: RenderOptions = RenderOptions()) -> dict:
    """Everything ``paths.tex.j2`` shows (``d`` derived with ``method="paths"``)."""
    view = View(d)
    section = paths_section(d, view, options)
    return {
        "doc": document_front(d, "The multivariate chain rule: every path to the loss"),
        "network": network_context(view),
        "forward": forward_rows(view),
        "loss": loss_rows(view),
        "edges": _edge_rows(view),
        "edge_pairs": pairs(_edge_rows(view)),
        "paths": section,
        "generic": view.generic,
        "limits": {"per_parameter": PATHS_CHOSEN if options.wrt else PATHS_PER_PARAMETER},
    }


def _edge_rows(view: View) -> list[dict]:
    """The local derivative on every edge that lies on a path from a parameter to the loss
    (example 1's edges, written for example n, with data)."""
    import networkx as nx

    g = view.g
    namer = view.namer()
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

"""The symbolic derivation document: the three backprop formulas instantiated at every neuron, every gradient and its update rule, expanded forms."""
from __future__ import annotations

import sympy as sp

from ..derive import Derivation
from ..derive.expand import ExpansionTooLarge
from ..graph import NodeKind
from ..latex import latex_name
from ..names import updated_name
from .front import document_front, network_context
from .paths import paths_section
from .texmath import (
    LINE_WIDTH,
    Namer,
    Sum,
    broken_tex,
    parenthesised,
    partial,
    product_tex,
    row,
    sum_tex,
    visual_width,
)
from .view import (
    VARIANT_WORDS,
    View,
    dEdout_name,
    delta_display_order,
    delta_parts,
    entity_title,
    forward_rows,
    loss_rows,
    render_terms,
    terms_into,
    times_factor,
    update_rows_needed,
)


def _backward_blocks(view: View) -> list[dict]:
    """Per δ (output layer first): formulas 1 and 2 (or the node rule), then formula 3."""
    d = view.d
    namer = view.namer()
    blocks = []
    shown: set[sp.Symbol] = set()
    for entry in delta_display_order(d, view):
        node = entry.node
        kind = view.g.nodes[node]["kind"]
        delta = namer.tex(entry.symbol)
        net_name = dEdout_name(view, node, namer)  # ∂E/∂net (under a tilde for the lecture variant)
        rows, notes = update_rows_needed(view, entry.expression, shown, None), []
        if kind == NodeKind.NET:
            out_node, out_terms, net_terms = delta_parts(view, node)
            out_name = dEdout_name(view, out_node, namer)
            own = render_terms(out_terms, namer)
            rows.append(row(out_name, Sum(own)))
            structure, values = [], []
            for label, target in net_terms:
                structure.append(partial(namer.tex(view.sym(target)), namer.tex(view.sym(node))) + r"\,"
                                 + dEdout_name(view, target, namer))
                values.append(times_factor(label, out_terms if target == out_node
                                     else [dEdout_name(view, target, namer)], namer))
            combined = sp.Add(*[label * (sp.Add(*[sp.Mul(*o) for o in out_terms]) if target == out_node
                                         else sp.Symbol(f"dE_d{target}")) for label, target in net_terms])
            chain = [net_name, Sum(structure), Sum(values)]
        else:
            terms = terms_into(view, node)
            structure = [(_carried_tex(view, v, namer) + r"\," if view.carried(v) != 1 else "")
                         + partial(namer.tex(view.sym(v)) if v != view.network.root else view.loss,
                                   namer.tex(view.sym(node))) for v in view.succ(node)]
            combined = sp.Add(*[sp.Mul(*t) for t in terms])
            chain = [net_name, Sum(structure) if sum_tex(structure) != net_name else "",
                     Sum(render_terms(terms, namer))]
        if d.method != "paths" and combined != entry.expression:  # paths: the expression is the path sum
            chain.append(namer.tex(entry.expression))
        if entry.simplified is not None:
            chain.append(namer.tex(entry.simplified))
            notes.append(f"The last form holds when {entry.condition}.")
        rows.append(row(delta, *chain))
        gradient_rows = _incoming_gradient_rows(view, node, namer)
        blocks.append({"title": entity_title(view, node), "name": latex_name(view.g.nodes[node]["owner"]),
                       "rows": rows + gradient_rows, "notes": notes, "kind": kind,
                       "shared": any(r["shared"] for r in gradient_rows)})
    return blocks


def _carried_tex(view: View, v: str, namer: Namer) -> str:
    return namer.tex(view.carried(v))


def _incoming_gradient_rows(view: View, node: str, namer: Namer) -> list[dict]:
    """Formula 3 at one net or node: ``∂E/∂w = δ · ∂net/∂w`` for each parameter (or wrt input) into it."""
    rows = []
    g, d = view.g, view.d
    delta = view.carried(node)
    for u in g.predecessors(node):
        if u not in d.gradients or u not in view.relevant:
            continue
        uses = view.succ(u)
        term = product_tex([delta, view.label(u, node)], namer)
        sole = all(g.nodes[v]["owner"] == g.nodes[node]["owner"] and g.nodes[v]["kind"] == g.nodes[node]["kind"]
                   for v in uses)
        lhs = view.grad_tex(u) if u in view.variant_params else partial(view.loss, namer.tex(view.sym(u)))
        local = partial(namer.tex(view.sym(node)), namer.tex(view.sym(u)))
        if sole and view.generic:
            n = view.N
            rows.append(row(lhs, rf"\sum_{{n=1}}^{{{n}}} {namer.tex(delta)}\,{local}",
                            rf"\sum_{{n=1}}^{{{n}}} {term}"))
        elif sole:
            rows.append(row(lhs, rf"{namer.tex(delta)}\,{local}", term))
        else:
            rows.append(row(rf"{namer.tex(delta)}\,{local}", term))
            rows[-1]["shared"] = True
    return rows


def _gradient_terms(view: View, param: str, namer: Namer) -> list[str]:
    """∂E/∂param as LaTeX terms: with data the per-example terms once, summed over n."""
    generic, direct = [], []
    for v in view.succ(param):
        ex = view.g.nodes[v]["example"]
        term = product_tex([view.carried(v), view.label(param, v)], namer)
        if ex is None:
            direct.append(term)
        elif ex == 1:
            generic.append(term)
    terms = []
    if generic:
        terms.append(rf"\sum_{{n=1}}^{{{view.N}}} {parenthesised(generic) if len(generic) > 1 else generic[0]}")
    return terms + direct


def gradient_row_list(view: View) -> list[dict]:
    """``∂E/∂w`` for every parameter (and wrt input), each followed by its update rule."""
    d = view.d
    namer = view.namer()
    rows = []
    for name, entry in d.gradients.items():
        terms = _gradient_terms(view, name, namer)
        note = f"{entry.path_count} path{'s' if entry.path_count != 1 else ''}" if d.method == "paths" else ""
        rows.append(row(view.grad_tex(name), Sum(terms), note=note))
        if name in d.spec.parameters:
            lhs, step = latex_name(updated_name(name)), rf"{latex_name(name)} - {view.lr}\,{parenthesised(terms)}"
            if visual_width(lhs) + visual_width(step) > LINE_WIDTH:  # a long gradient is named, not repeated
                step = rf"{latex_name(name)} - {view.lr}\,{view.grad_tex(name, slash=True)}"
            rows.append(row(lhs, step))
            rows[-1]["note"] = "update"
    return rows


def _gradient_pairs(rows: list[dict]) -> list[list[dict]] | None:
    """Each gradient beside its update rule, when every pair fits on a line."""
    grouped: list[list[dict]] = []
    for r in rows:
        if r["note"] == "update" and grouped:
            grouped[-1].append(r)
        else:
            grouped.append([r])
    for group in grouped:
        if any(len(r["lines"]) > 1 for r in group) or \
                sum(visual_width(r["lhs"] + r["lines"][0]["tex"]) + 30 for r in group) > LINE_WIDTH:
            return None
    return grouped


def _expanded_blocks(view: View) -> list[dict]:
    """Each gradient in inputs, parameters and targets only, where that is short enough to read."""
    d = view.d
    out = []
    for name, entry in d.gradients.items():
        lhs = view.grad_tex(name)
        try:
            expanded = _tidy_expanded(d.expanded(entry.expression))
        except ExpansionTooLarge as exc:
            out.append({"lhs": lhs, "lines": [], "note": "left out: fully expanded, the forward pass substituted, "
                        "it runs to too many terms to read"})
            continue
        lines = broken_tex(expanded, LINE_WIDTH - visual_width(lhs))
        if lines is None:
            out.append({"lhs": lhs, "lines": [], "note": "left out as too long to read (the formula above "
                        "with the forward pass substituted)"})
        else:
            out.append({"lhs": lhs, "note": "", "lines": [{"rel": "=" if i == 0 else "",
                                                           "tex": line if i == 0 else r"\qquad " + line}
                                                          for i, line in enumerate(lines)]})
    return out


def _tidy_expanded(expr: sp.Expr) -> sp.Expr:
    """A polynomial comes out factored (WE-1's 18(w2³w1⁹x⁹ − t)w2³w1⁸x⁹); others as they are."""
    if sp.count_ops(expr) > 200:
        return expr
    symbols = sorted(expr.free_symbols, key=str)
    if symbols and expr.is_polynomial(*symbols):
        return sp.factor(expr)
    if symbols and expr.is_rational_function(*symbols):
        simpler = sp.factor(sp.cancel(expr))
        return simpler if sp.count_ops(simpler) < sp.count_ops(expr) else expr
    return expr


def derivation_context(d: Derivation) -> dict:
    """Everything ``derivation.tex.j2`` shows: network, forward pass, loss, the three formulas
    per node, gradients with update rules, expanded gradients (where small enough)."""
    view = View(d)
    return {
        "doc": document_front(d, "Backpropagation, derived step by step"),
        "network": network_context(view),
        "forward": forward_rows(view),
        "loss": loss_rows(view),
        "backward": _backward_blocks(view),
        "gradients": gradient_row_list(view),
        "gradient_pairs": _gradient_pairs(gradient_row_list(view)),
        "expanded": _expanded_blocks(view),
        "variant": _variant_symbolic(view) if d.is_variant else None,
        "paths": paths_section(d, view) if d.method == "paths" else None,
        "method": d.method,
        "generic": view.generic,
        "has_updates": any(p in d.spec.parameters for p in d.gradients),
    }


def _variant_symbolic(view: View) -> dict:
    """The true δs (through the old weights), for the remark beside the lecture variant."""
    d = view.d
    namer = view.namer()
    rows = []
    for key, expr in d.true_deltas.items():
        if key in d.deltas and view.shown(view.g.nodes[d.deltas[key].node]["example"]) \
                and expr != d.deltas[key].expression:
            rows.append(row(namer.tex(d.deltas[key].symbol), namer.tex(expr)))
    return {"deltas": rows, "words": VARIANT_WORDS[d.variant_kind]}

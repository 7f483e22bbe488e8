r"""What the interactive explorer shows, as plain data: the picture, each parameter's paths, each
neuron's three formulas and the forward/backward steps — LaTeX rows read from the Derivation.

Every number comes from the Derivation (``numbers``, and for the paths each product of
``path_check``); this module only formats. The rows are :func:`~symbackprop.render.texmath.row`
dicts (``lhs`` and ``lines`` of ``{rel, tex}``), the same the worked solution prints.

>>> from symbackprop import derive, load_spec
>>> spec = load_spec("examples/we05-221-sigmoid.yaml")
>>> view = explorer_view(derive(spec), derive(spec, "paths"))
>>> p = view["params"]["w_AT"]
>>> [path["value"] for path in p["paths"]], p["value"]
(['0.000929'], '0.000929')
>>> [s["phase"] for s in view["steps"]].count("backward"), view["neurons"]["T"]["rows"][0]["lhs"]
(3, '\\partial E / \\partial \\mathrm{out}_{T}')
"""
from __future__ import annotations

from typing import Any

from ..derive import Derivation
from ..latex import latex_name, to_latex
from .options import RenderOptions
from .paths import PATHS_CHOSEN, paths_section
from .solution import (
    Numbers,
    delta_steps,
    edge_values,
    forward_steps,
    gradient_step,
    loss_arithmetic,
    neuron_steps,
    update_step,
)
from .texmath import fmt, partial, row
from .tikz import drawn_parameters, entity_of, network_picture
from .view import View, computed_nodes, delta_parts, forward_rows, render_terms

DIGITS = 6


def explorer_view(d: Derivation, paths: Derivation | None = None, digits: int = DIGITS) -> dict[str, Any]:
    """The explorer's data for ``d`` (``paths``: the same spec derived by ``method="paths"``, when
    its paths could be enumerated). ``drawn`` is False past the picture's size limit; the
    rest is then left out."""
    view = View(d)
    nums = Numbers(d, digits) if d.numbers is not None else None
    picture = network_picture(d.network, edge_values(view, digits) if nums else None)
    out: dict[str, Any] = {"drawn": picture["drawn"], "count": picture["count"], "numbers": nums is not None,
                           "generic": view.generic, "variant": d.is_variant, "notes": list(d.notes)}
    if not picture["drawn"]:
        return out
    node_params = drawn_parameters(d.network)
    ids = {n["entity"]: n["id"] for n in picture["nodes"]}
    at = {}
    for node in d.network.graph:
        e = entity_of(d.network, node, node_params)
        if e in ids:
            at[node] = ids[e]
    out.update(picture=picture, at=at, loss=view.loss,
               steps=_steps(view, nums), neurons=_neurons(view, nums, at),
               params=_params(view, nums, paths, digits))
    return out


def _steps(view: View, nums: Numbers | None) -> list[dict]:
    """The forward pass node by node, then the backward pass δ by δ (one example with data)."""
    example = view.examples()[0]
    steps = []
    if nums is not None:
        for node, r in forward_steps(view, nums, example):
            steps.append({"phase": "forward", "node": node, "rows": [r]})
        if view.spec.objective is None or example is not None:
            steps.append({"phase": "forward", "node": view.network.root,
                          "rows": loss_arithmetic(view, nums, example)})
        shown: set = set()
        for entry in view.d.deltas.values():
            if view.shown(view.g.nodes[entry.node]["example"]):
                steps.append({"phase": "backward", "node": entry.node,
                              "rows": delta_steps(view, nums, entry, shown)})
        return steps
    symbolic = forward_rows(view)
    for (node, _), r in zip(computed_nodes(view, example), symbolic):
        steps.append({"phase": "forward", "node": node, "rows": [r]})
    sym = view.namer()
    for entry in view.d.deltas.values():
        if view.shown(view.g.nodes[entry.node]["example"]):
            steps.append({"phase": "backward", "node": entry.node,
                          "rows": [row(sym.tex(entry.symbol), sym.tex(entry.expression))]})
    return steps


def _neurons(view: View, nums: Numbers | None, at: dict[str, str]) -> dict[str, dict]:
    """Each neuron's ∂E/∂out (a sum over its outgoing edges), δ = f′·∂E/∂out and ∂E/∂w of its weights."""
    sym = view.namer(False)
    entries = {e.node: e for e in view.d.deltas.values()}
    out = {}
    for name, neuron in view.spec.neurons.items():
        example = view.examples()[0]
        net = f"net_{name}" + ("" if example is None else f"__{example}")
        entry = entries.get(net)
        rows: list[dict] = []
        if entry is not None and entry.simplified is None:
            out_node, out_terms, net_terms = delta_parts(view, net)
            if len(net_terms) == 1 and nums is not None:
                rows = neuron_steps(view, nums, entry, sym, nums.namer())
            elif len(net_terms) == 1:
                dout = partial(view.loss, sym.tex(view.sym(out_node)), slash=True)
                rows = [row(dout, " + ".join(render_terms(out_terms, sym))),
                        row(rf"f'({sym.tex(view.sym(net))})", sym.tex(net_terms[0][0])),
                        row(sym.tex(entry.symbol), rf"f'({sym.tex(view.sym(net))}) \cdot {dout}",
                            sym.tex(entry.expression))]
        elif entry is not None:
            rows = [row(sym.tex(entry.symbol), sym.tex(entry.simplified))]
        weights = [p for _, p in neuron.sources] + ([neuron.bias] if neuron.bias else [])
        for p in weights:
            if p in view.d.gradients:
                rows.append(gradient_step(view, nums, p) if nums is not None else
                            row(view.grad_tex(p), to_latex(view.d.gradients[p].expression)))
        out[name] = {"id": at.get(net), "label": latex_name(name), "rows": rows}
    return out


def _params(view: View, nums: Numbers | None, paths: Derivation | None, digits: int) -> dict[str, dict]:
    """Each parameter: its paths (chain, product, value), the sum by paths, the cached form
    ``δ_v · input`` with numbers, the value and the update."""
    d = view.d
    listed = {}
    if paths is not None:
        section = paths_section(paths, View(paths), RenderOptions(digits=digits, wrt=tuple(paths.gradients)))
        listed = {name: entry for name, entry in zip(paths.gradients, section["parameters"])}
    out = {}
    for name, g in d.gradients.items():
        shown = listed.get(name)
        items = []
        if shown is not None:
            terms = paths.gradients[name].paths or ()
            values = paths.path_check.products.get(name, []) if paths.path_check else []
            for i, (term, texts) in enumerate(zip(terms, shown["paths"])):
                items.append({"nodes": list(term.nodes), "chain": texts["chain"], "product": " ".join(texts["product"]),
                              "value": fmt(values[i], digits) if nums is not None and i < len(values) else ""})
        entry = {
            "label": latex_name(name), "lhs": view.grad_tex(name), "count": g.path_count, "paths": items,
            "listed": shown is not None, "more": g.path_count - len(items), "limit": PATHS_CHOSEN,
            "expression": to_latex(g.expression),
            "cached": gradient_step(view, nums, name) if nums is not None else row(view.grad_tex(name),
                                                                                 to_latex(g.expression)),
            "value": fmt(d.numbers.gradients[name], digits) if nums is not None else "",
            "update": (update_step(view, nums, name)
                       if nums is not None and d.numbers.updated_params and name in d.numbers.updated_params
                       else None),
        }
        out[name] = entry
    return out

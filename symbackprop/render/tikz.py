r"""Lay out a network for a TikZ picture: plain data (ids, coordinates, LaTeX labels).

The picture shows one node per *entity*, not per scalar: each input, each neuron (its
``net`` and ``out`` together, the way lectures draw a neuron), each expression node,
parameters that feed expression nodes, and the loss. Entities are placed in columns by
their longest distance from the inputs (topological generations of a general graph; the
layers of a layered network), left to right; within a column a barycentre pass keeps
edges short. Neuron edges are labelled with their weight, edges into expression nodes
with their local derivative ``∂v/∂u`` when it is short.

>>> from symbackprop import derive, spec_from_mapping
>>> d = derive(spec_from_mapping({"name": "t", "inputs": ["x"],
...     "neurons": {"o": {"from": {"x": "w"}, "activation": "sigmoid"}},
...     "outputs": ["o"], "loss": "half_sse"}))
>>> pic = network_picture(d.network)
>>> [(n["label"], n["column"]) for n in pic["nodes"]], [e["label"] for e in pic["edges"]]
([('x', 0), ('o', 1), ('E', 2)], ['w', ''])
"""
from __future__ import annotations

from typing import Any

import networkx as nx
import sympy as sp

from ..graph import Network, NodeKind
from ..latex import latex_name, to_latex

MAX_DRAWN_ENTITIES = 80      # larger networks get a sentence instead of a picture
MAX_COLUMN_HEIGHT = 14       # entities in one column
MAX_LABELLED_EDGES = 6       # edges between two columns that still get labels (more would overlap)
MAX_EDGE_LABEL = 40          # characters of LaTeX for a local-derivative label
TEXT_WIDTH_CM = 15.0
TEXT_HEIGHT_CM = 11.0


def _generic(expr: sp.Expr) -> sp.Expr:
    """Example 1's symbols as the generic example's (``x__1`` → ``x``) for drawing."""
    return expr.xreplace({s: sp.Symbol(s.name[:-3]) for s in expr.free_symbols
                          if isinstance(s, sp.Symbol) and s.name.endswith("__1")})


def _entities(network: Network) -> tuple[dict[str, dict], list[tuple[str, str, str]]]:
    """Entities (id → kind, label) and edges (source, target, LaTeX label) of the picture."""
    spec, g = network.spec, network.graph
    node_params = {p for p in spec.parameters if any(g.nodes[v]["kind"] == NodeKind.NODE for v in g.successors(p))}
    entities: dict[str, dict] = {}
    for name in spec.inputs:
        entities[f"input:{name}"] = {"kind": "input", "label": latex_name(name)}
    for p in spec.parameters:
        if p in node_params:
            entities[f"param:{p}"] = {"kind": "param", "label": latex_name(p)}
    for name, neuron in spec.neurons.items():
        entities[f"neuron:{name}"] = {"kind": "neuron", "label": latex_name(name),
                                      "bias": latex_name(neuron.bias) if neuron.bias else ""}
    for name in spec.nodes:
        entities[f"node:{name}"] = {"kind": "node", "label": latex_name(name)}
    root_kind = g.nodes[network.root]["kind"]
    if root_kind == "loss":
        entities["loss"] = {"kind": "loss", "label": latex_name(network.root)}
    else:  # the objective is a node or neuron itself
        owner = g.nodes[network.root]["owner"]
        key = f"node:{owner}" if owner in spec.nodes else f"neuron:{owner}"
        entities[key]["objective"] = True

    def entity(node: str) -> str | None:
        attrs = g.nodes[node]
        if attrs["example"] not in (None, 1):
            return None
        kind = attrs["kind"]
        if kind == "input":
            return f"input:{attrs['label']}"
        if kind == NodeKind.PARAM:
            return f"param:{node}" if node in node_params else None
        if kind in (NodeKind.NET, NodeKind.OUT):
            return f"neuron:{attrs['owner']}"
        if kind == "node":
            return f"node:{attrs['label']}"
        if kind == "loss":
            return "loss"
        return None

    edges: dict[tuple[str, str], str] = {}
    for u, v, data in g.edges(data=True):
        eu, ev = entity(u), entity(v)
        if eu is None or ev is None or eu == ev or (eu, ev) in edges:
            continue
        if g.nodes[u]["kind"] == NodeKind.NET:  # a softmax group's coupling, drawn as a frame instead
            continue
        label = ""
        target_kind = entities[ev]["kind"]
        if target_kind == "neuron" and g.nodes[v]["kind"] == NodeKind.NET:
            owner = ev.split(":", 1)[1]
            source = eu.split(":", 1)[1]
            params = [p for s, p in spec.neurons[owner].sources if s == source]
            label = ", ".join(latex_name(p) for p in params)
        elif target_kind == "node":
            text = to_latex(_generic(data["derivative"]))
            label = text if len(text) <= MAX_EDGE_LABEL else ""
        edges[(eu, ev)] = label
    return entities, [(a, b, lab) for (a, b), lab in edges.items()]


def _columns(entities: dict[str, dict], edges) -> dict[str, int]:
    """Column of each entity: its longest distance from a source (topological generations)."""
    graph = nx.DiGraph()
    graph.add_nodes_from(entities)
    graph.add_edges_from((a, b) for a, b, _ in edges)
    column: dict[str, int] = {}
    for e in nx.topological_sort(graph):
        column[e] = max((column[p] + 1 for p in graph.predecessors(e)), default=0)
    return column


def _fmt(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def network_picture(network: Network) -> dict[str, Any]:
    """Plain data for the picture: ``nodes``, ``edges``, unit lengths, and whether it is drawn."""
    entities, edges = _entities(network)
    if len(entities) > MAX_DRAWN_ENTITIES:
        return {"drawn": False, "nodes": [], "edges": [], "count": len(entities),
                "x_unit": "1", "y_unit": "1", "labelled": False, "font": "", "weights": [], "groups": []}
    column = _columns(entities, edges)
    width = max(column.values()) if column else 0
    by_column: dict[int, list[str]] = {}
    for e in entities:  # spec order within a column
        by_column.setdefault(column[e], []).append(e)
    if max(len(c) for c in by_column.values()) > MAX_COLUMN_HEIGHT:
        return {"drawn": False, "nodes": [], "edges": [], "count": len(entities),
                "x_unit": "1", "y_unit": "1", "labelled": False, "font": "", "weights": [], "groups": []}
    preds: dict[str, list[str]] = {e: [] for e in entities}
    for a, b, _ in edges:
        preds[b].append(a)
    position: dict[str, float] = {}
    for c in sorted(by_column):
        members = by_column[c]
        if c > 0:  # barycentre of the predecessors' positions, ties in spec order
            order = {e: i for i, e in enumerate(members)}

            def centre(e: str) -> float:
                ps = [position[p] for p in preds[e] if p in position]
                return sum(ps) / len(ps) if ps else float(order[e])

            members.sort(key=lambda e: (centre(e), order[e]))
            by_column[c] = members
        for i, e in enumerate(members):
            position[e] = float(i)
    tallest = max(len(c) for c in by_column.values())
    pairs: dict[tuple[int, int], int] = {}
    for a, b, _ in edges:
        pairs[(column[a], column[b])] = pairs.get((column[a], column[b]), 0) + 1
    labelled = max(pairs.values(), default=0) <= MAX_LABELLED_EDGES
    x_unit = min(4.0, TEXT_WIDTH_CM / max(width, 1))
    y_unit = min(2.1 if labelled else 1.55, TEXT_HEIGHT_CM / max(tallest - 1, 1))
    ids = {e: f"n{i}" for i, e in enumerate(entities)}
    nodes = []
    for e, info in entities.items():
        members = by_column[column[e]]
        i = members.index(e)
        y = (len(members) - 1) / 2 - i
        nodes.append({"id": ids[e], "kind": info["kind"], "label": info["label"],
                      "bias": info.get("bias", ""), "objective": bool(info.get("objective")),
                      "x": _fmt(column[e]), "y": _fmt(y), "column": column[e]})
    drawn_edges = []
    unlabelled = []
    for a, b, label in edges:
        sources, targets = by_column[column[a]], by_column[column[b]]
        fi = sources.index(a) / (len(sources) - 1) if len(sources) > 1 else 0.5
        fj = targets.index(b) / (len(targets) - 1) if len(targets) > 1 else 0.5
        # Where along the edge the label sits, by the rows of both ends: chosen (by a search
        # over the 1-3 by 1-3 column pairs) so that no two labels between two columns overlap.
        pos = 0.3 + 0.04 * fi + 0.38 * fj
        span = column[b] - column[a]
        if span > 1:
            pos = pos / span
        drawn_edges.append({"source": ids[a], "target": ids[b], "label": label if labelled else "",
                            "pos": _fmt(pos), "loss": entities[b]["kind"] == NodeKind.LOSS})
        if label and not labelled:
            unlabelled.append({"label": label, "source": entities[a]["label"], "target": entities[b]["label"]})
    dense = max(pairs.values(), default=0) >= 5
    font = r"\footnotesize" if x_unit >= 2.6 and not dense else r"\scriptsize"
    spec = network.spec
    softmax = [ids[f"neuron:{n}"] for n, neuron in spec.neurons.items() if neuron.activation == "softmax"]
    groups = [{"members": " ".join(f"({i})" for i in softmax), "label": "softmax"}] if softmax else []
    return {"drawn": True, "nodes": nodes, "edges": drawn_edges, "count": len(entities),
            "x_unit": _fmt(x_unit), "y_unit": _fmt(y_unit), "labelled": labelled, "font": font,
            "weights": unlabelled, "groups": groups}

r"""Lay out a network for a TikZ picture: plain data (ids, coordinates, LaTeX labels).

The picture shows one node per *entity*, not per scalar: each input, each neuron (its
``net`` and ``out`` together, the way lectures draw a neuron), each expression node,
parameters that feed expression nodes, and the loss. Entities are placed in columns by
their longest distance from the inputs (topological generations of a general graph; the
layers of a layered network), left to right; within a column a barycentre pass keeps
edges short, and alternating barycentre sweeps and neighbour swaps keep an order only when
it has fewer crossings. Neuron edges are labelled with their weight (or its value),
edges into expression nodes with their local derivative ``∂v/∂u`` when it is short. Each
label sits near the source end of its edge, at the first of a few positions that keeps
it clear of nodes, other labels and other edges (estimated in centimetres here), and is
drawn after all edges on an opaque fill.

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
from .texmath import _width_features

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


Edge = tuple[str, str, str, tuple[str, ...]]  # source, target, LaTeX label, parameters on it


def _entities(network: Network) -> tuple[dict[str, dict], list[Edge]]:
    """Entities (id → kind, label, parameter) and edges of the picture."""
    spec, g = network.spec, network.graph
    node_params = drawn_parameters(network)
    entities: dict[str, dict] = {}
    for name in spec.inputs:
        entities[f"input:{name}"] = {"kind": "input", "label": latex_name(name)}
    for p in spec.parameters:
        if p in node_params:
            entities[f"param:{p}"] = {"kind": "param", "label": latex_name(p), "param": p}
    for name, neuron in spec.neurons.items():
        entities[f"neuron:{name}"] = {"kind": "neuron", "label": latex_name(name), "bias": neuron.bias or ""}
    for name in spec.nodes:
        entities[f"node:{name}"] = {"kind": "node", "label": latex_name(name)}
    for name, norm in spec.batch_norms.items():  # the batch's mean and variance, then the normalised value
        for label in (norm.mean, norm.variance, name):
            entities[f"node:{label}"] = {"kind": "node", "label": latex_name(label)}
    root_kind = g.nodes[network.root]["kind"]
    if root_kind == "loss":
        entities["loss"] = {"kind": "loss", "label": latex_name(network.root)}
    else:  # the objective is a node or neuron itself
        owner = g.nodes[network.root]["owner"]
        key = f"node:{owner}" if owner in spec.nodes else f"neuron:{owner}"
        entities[key]["objective"] = True

    def entity(node: str) -> str | None:
        return entity_of(network, node, node_params)

    edges: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}
    for u, v, data in g.edges(data=True):
        eu, ev = entity(u), entity(v)
        if eu is None or ev is None or eu == ev or (eu, ev) in edges:
            continue
        if g.nodes[u]["kind"] == NodeKind.NET:  # a softmax group's coupling, drawn as a frame instead
            continue
        label, params = "", ()
        target_kind = entities[ev]["kind"]
        if target_kind == "neuron" and g.nodes[v]["kind"] == NodeKind.NET:
            owner = ev.split(":", 1)[1]
            source = eu.split(":", 1)[1]
            weights = [p for s, p in spec.neurons[owner].sources if s == source]
            params = tuple(p for p in weights if isinstance(p, str))
            label = ", ".join(latex_name(p) if isinstance(p, str) else _fmt(float(p)) for p in weights)
        elif target_kind == "node":
            text = to_latex(_generic(data["derivative"]))
            label = text if len(text) <= MAX_EDGE_LABEL else ""
        edges[(eu, ev)] = (label, params)
    return entities, [(a, b, lab, params) for (a, b), (lab, params) in edges.items()]


def drawn_parameters(network: Network) -> set[str]:
    """Parameters drawn as nodes of their own: those feeding an expression node (weights are edge labels)."""
    g = network.graph
    return {p for p in network.spec.parameters if any(g.nodes[v]["kind"] == NodeKind.NODE for v in g.successors(p))}


def entity_of(network: Network, node: str, node_params: set[str]) -> str | None:
    """The picture entity a graph node belongs to (``neuron:T`` for ``net_T`` and ``out_T``), or
    None where it is not drawn (other examples, weights on edges, targets)."""
    attrs = network.graph.nodes[node]
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


def _columns(entities: dict[str, dict], edges) -> dict[str, int]:
    """Column of each entity: its longest distance from a source (topological generations)."""
    graph = nx.DiGraph()
    graph.add_nodes_from(entities)
    graph.add_edges_from((a, b) for a, b, *_ in edges)
    column: dict[str, int] = {}
    for e in nx.topological_sort(graph):
        column[e] = max((column[p] + 1 for p in graph.predecessors(e)), default=0)
    return column


def _fmt(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# --- within-column order --------------------------------------------------------------------

MAX_ORDERED_LINKS = 160      # above this many edges the crossing search is skipped (it is quadratic)
SWEEPS = 6                   # alternating up/down barycentre sweeps after the first down pass

Order = dict[int, list[str]]


def _first_order(by_column: Order, edges: list[Edge]) -> Order:
    """One down pass: each column by the barycentre of its predecessors' rows, ties in spec order."""
    preds: dict[str, list[str]] = {e: [] for m in by_column.values() for e in m}
    for a, b, *_ in edges:
        preds[b].append(a)
    position: dict[str, float] = {}
    order: Order = {}
    for c in sorted(by_column):
        members = by_column[c]
        index = {e: i for i, e in enumerate(members)}

        def centre(e: str) -> float:
            ps = [position[p] for p in preds[e] if p in position]
            return sum(ps) / len(ps) if ps else float(index[e])

        order[c] = sorted(members, key=lambda e: (centre(e), index[e])) if c > 0 else list(members)
        position.update((e, float(i)) for i, e in enumerate(order[c]))
    return order


def _rows(order: Order) -> dict[str, float]:
    """Each entity's drawn row, centred in its column (top = most positive)."""
    return {e: (len(m) - 1) / 2 - i for m in order.values() for i, e in enumerate(m)}


def _side(p: tuple[float, float], q: tuple[float, float], r: tuple[float, float]) -> float:
    return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])


def _crossings(order: Order, column: dict[str, int], links: list[tuple[str, str]]) -> int:
    """Pairs of straight edges that cross, plus edges that run through a node they skip."""
    y = _rows(order)
    point = {e: (float(column[e]), y[e]) for e in y}
    count = 0
    for i, (a, b) in enumerate(links):
        p, q = point[a], point[b]
        for c, d in links[i + 1:]:
            if {a, b} & {c, d} or column[c] >= column[b] or column[d] <= column[a]:
                continue
            r, s = point[c], point[d]
            if _side(p, q, r) * _side(p, q, s) < 0 and _side(r, s, p) * _side(r, s, q) < 0:
                count += 1
        for col in range(column[a] + 1, column[b]):  # a long edge through a node in between
            at = p[1] + (q[1] - p[1]) * (col - p[0]) / (q[0] - p[0])
            count += sum(1 for e in order[col] if abs(y[e] - at) < 0.35)
    return count


def _sweep(order: Order, neighbours: dict[str, list[str]], columns: list[int]) -> Order:
    """One barycentre pass over ``columns`` (in that order), ties kept in the current order."""
    order = {c: list(m) for c, m in order.items()}
    for c in columns:
        y = _rows(order)
        members = order[c]

        def centre(e: str) -> float:
            ys = [y[n] for n in neighbours[e]]
            return -sum(ys) / len(ys) if ys else -y[e]

        order[c] = sorted(members, key=lambda e: (centre(e), members.index(e)))
    return order


def _transpose(order: Order, column: dict[str, int], links: list[tuple[str, str]], best: int) -> tuple[Order, int]:
    """Swap neighbours within a column while that removes crossings."""
    improved = True
    while improved and best:
        improved = False
        for c in sorted(order):
            for i in range(len(order[c]) - 1):
                trial = dict(order)
                m = list(order[c])
                m[i], m[i + 1] = m[i + 1], m[i]
                trial[c] = m
                count = _crossings(trial, column, links)
                if count < best:
                    order, best, improved = trial, count, True
    return order, best


def _order(order: Order, column: dict[str, int], links: list[tuple[str, str]]) -> Order:
    """The given order, or one with fewer crossings from barycentre sweeps and swaps."""
    if len(links) > MAX_ORDERED_LINKS:
        return order
    preds: dict[str, list[str]] = {e: [] for m in order.values() for e in m}
    succs: dict[str, list[str]] = {e: [] for e in preds}
    for a, b in links:
        preds[b].append(a)
        succs[a].append(b)
    best, fewest = order, _crossings(order, column, links)
    current = order
    for k in range(SWEEPS):
        if not fewest:
            break
        up = k % 2 == 0
        current = _sweep(current, succs if up else preds, sorted(current, reverse=up))
        count = _crossings(current, column, links)
        if count < fewest:
            best, fewest = current, count
    return _transpose(best, column, links, fewest)[0]


# --- label geometry (centimetres) -------------------------------------------------------------

PT = 2.54 / 72.27            # centimetres per point
FONT_PT = {r"\footnotesize": 9.0, r"\scriptsize": 8.0}   # never smaller: 8 pt is the floor
NODE_FONT_PT = 10.0          # \small, the nodes' font
# Points per glyph class (of texmath's width features) in text-style math at 9 pt, on the generous side.
GLYPH_PT = {"lower": 5.5, "upper": 8.3, "digit": 5.0, "other_cmd": 6.4, "rel": 12.5, "bin": 8.0,
            "dot": 7.5, "paren": 4.0, "punct": 4.2, "sum": 10.5, "word3": 14.0, "word4": 18.5,
            "sqrt": 8.0, "thin": 1.5, "neg": -1.5, "quad": 9.0, "qquad": 18.0, "frac": 0.0}
# Node kind → (minimum size mm, inner sep pt, circle?) as in the picture's TikZ styles.
NODE_SHAPE = {"input": (8.5, 1.0, True), "param": (7.0, 2.0, False), "neuron": (9.5, 1.0, True),
              "node": (8.0, 3.0, False), "loss": (8.0, 3.0, False)}
LABEL_SEP_PT = 1.0           # the labels' inner sep
GAP = 0.1                    # clearance between a label and a node or another label
LINE_GAP = 0.1               # clearance between a label and an edge it is not on
# Where along an edge a label may sit (fraction from the source end), most preferred first.
LABEL_POSITIONS = (0.25, 0.3, 0.2, 0.35, 0.4, 0.15, 0.45, 0.5, 0.55, 0.6, 0.65)
BENT_LABEL_POSITIONS = (0.5, 0.4, 0.6, 0.3, 0.7)   # along the top of an arc drawn around a skipped node
BEND_HEIGHT_CM = 0.85
# Where a bias label may sit around its neuron (unit direction), most preferred first.
BIAS_PLACES = ((0.0, -1.0), (0.75, -0.75), (0.75, 0.75), (0.0, 1.0), (-0.75, -0.75))
HIT = {"box": 10, "line": 3, "near": 1}  # cost of a label meeting a node or label, a line, a line's margin
NAMED_SLACK = 1              # cost the "w = 0.3" labels may add over bare values and still be used
REFINE = 2                   # passes that re-place each edge label among all the others

Box = tuple[float, float, float, float]      # centre x, centre y, half width, half height
Segment = tuple[tuple[float, float], tuple[float, float]]


def _text_width(tex: str, size: float) -> float:
    r"""Estimated width in cm of ``tex`` typeset in text-style math at ``size`` points.

    >>> _text_width(r"w_{1} = 0.3", 9.0) > _text_width(r"w_{1}", 9.0)
    True
    """
    return sum(GLYPH_PT[k] * v for k, v in _width_features(tex).items()) * size / 9.0 * PT


def _label_box(tex: str, size: float, x: float, y: float) -> Box:
    """The opaque box of a label centred at (x, y)."""
    height = 0.3 * size / 9.0 + (0.22 if "frac" in tex else 0.0) + (0.06 if "^" in tex else 0.0)
    sep = LABEL_SEP_PT * PT
    return (x, y, _text_width(tex, size) / 2 + sep, height / 2 + sep)


def _node_half(kind: str, label: str) -> tuple[float, float, bool]:
    """Half width, half height and roundness of a node's outline."""
    size, sep, circle = NODE_SHAPE[kind]
    content = _text_width(label, NODE_FONT_PT) + 2 * sep * PT
    hw = max(size / 20, content / 2)
    return (hw, hw if circle else size / 20, circle)


def _boxes_meet(a: Box, b: Box) -> bool:
    return abs(a[0] - b[0]) < a[2] + b[2] + GAP and abs(a[1] - b[1]) < a[3] + b[3] + GAP


def _node_meets(node: Box, round_: bool, box: Box) -> bool:
    """Whether a node's outline (a circle when ``round_``) overlaps a label box."""
    if not round_:
        return _boxes_meet(node, box)
    dx = max(abs(node[0] - box[0]) - box[2], 0.0)
    dy = max(abs(node[1] - box[1]) - box[3], 0.0)
    return dx * dx + dy * dy < (node[2] + GAP) ** 2


def _line_meets(seg: Segment, box: Box) -> bool:
    """Whether a segment passes through a box (Liang–Barsky clipping)."""
    (x0, y0), (x1, y1) = seg
    t0, t1 = 0.0, 1.0
    for p, q in ((-(x1 - x0), x0 - (box[0] - box[2])), (x1 - x0, box[0] + box[2] - x0),
                 (-(y1 - y0), y0 - (box[1] - box[3])), (y1 - y0, box[1] + box[3] - y0)):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return False
    return True


def _border(half: tuple[float, float, bool], ux: float, uy: float) -> float:
    """Distance from a node's centre to its outline in direction (ux, uy)."""
    hw, hh, circle = half
    if circle:
        return hw
    return min(hw / abs(ux) if ux else float("inf"), hh / abs(uy) if uy else float("inf"))


class _Scene:
    """What a new label must keep clear of: nodes, edges, frames and the labels placed so far."""

    def __init__(self, nodes: list[tuple[Box, bool]], lines: list[Segment]):
        self.nodes, self.lines = nodes, lines
        self.labels: list[Box | None] = []

    def cost(self, box: Box, own: Segment | None = None) -> int:
        """Boxes it overlaps, lines through it, and (cheaper) lines that pass close by."""
        boxes = sum(1 for n, round_ in self.nodes if _node_meets(n, round_, box))
        boxes += sum(1 for b in self.labels if b is not None and _boxes_meet(b, box))
        wide = (box[0], box[1], box[2] + LINE_GAP, box[3] + LINE_GAP)
        near = [s for s in self.lines if s is not own and _line_meets(s, wide)]
        through = sum(1 for s in near if _line_meets(s, box))
        return HIT["box"] * boxes + HIT["line"] * through + HIT["near"] * (len(near) - through)

    def place(self, candidates: list[Box], own: Segment | None = None, slot: int | None = None) -> tuple[int, int]:
        """Index and cost of the cheapest candidate (earliest on ties), kept as a new label or in ``slot``."""
        if slot is not None:
            self.labels[slot] = None
        cost, best = min((self.cost(c, own), i) for i, c in enumerate(candidates))
        if slot is None:
            self.labels.append(candidates[best])
        else:
            self.labels[slot] = candidates[best]
        return best, cost


def _bends(edges, column: dict[str, int], centre: dict[str, tuple[float, float]],
           half: dict[str, tuple[float, float, bool]], y_unit: float) -> dict[tuple[str, str], tuple]:
    """Long edges whose straight line would run through a node they skip (a residual ``x → h``
    past ``a``): each drawn as a cubic arc above it; edge → (control 1, control 2, apex offset), cm."""
    boxes = {e: (*centre[e], half[e][0], half[e][1]) for e in centre}
    by_column: dict[int, list[str]] = {}
    for e, c in column.items():
        by_column.setdefault(c, []).append(e)
    bends = {}
    for a, b, *_ in edges:
        if column[b] - column[a] < 2:
            continue
        line = (centre[a], centre[b])
        if not any(_line_meets(line, boxes[e]) for c in range(column[a] + 1, column[b]) for e in by_column[c]):
            continue
        (x0, y0), (x1, y1) = line
        length = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
        nx_, ny_ = -(y1 - y0) / length, (x1 - x0) / length
        if ny_ < 0:
            nx_, ny_ = -nx_, -ny_
        apex = min(BEND_HEIGHT_CM, 0.45 * y_unit)
        k = apex / 0.75  # a cubic with both controls k off the chord peaks ¾·k from it
        bends[(a, b)] = ((x0 + (x1 - x0) / 3 + k * nx_, y0 + (y1 - y0) / 3 + k * ny_),
                         (x0 + 2 * (x1 - x0) / 3 + k * nx_, y0 + 2 * (y1 - y0) / 3 + k * ny_),
                         (apex * nx_, apex * ny_))
    return bends


def _with_values(params: tuple[str, ...], values: dict[str, str], names: bool) -> str:
    """Edge label ``w = 0.3`` (or ``0.3`` without ``names``); names alone for parameters without values."""
    return ", ".join((f"{latex_name(p)} = {values[p]}" if names else values[p]) if p in values else latex_name(p)
                     for p in params)


def _frame(boxes: list[Box]) -> tuple[float, float, float, float]:
    """Left, bottom, right, top of a dashed group frame (``fit`` with inner sep 3pt) around boxes."""
    sep = 3 * PT
    return (min(b[0] - b[2] for b in boxes) - sep, min(b[1] - b[3] for b in boxes) - sep,
            max(b[0] + b[2] for b in boxes) + sep, max(b[1] + b[3] for b in boxes) + sep)


def _place_labels(scene: _Scene, size: float, biases: dict[str, tuple[str, Box, bool]],
                  group: dict[str, Box], edges: list[tuple[str, Segment, list[float]]]) -> tuple[int, dict, list]:
    """Place bias labels (entity → text, node box, roundness), frame the ``group`` (entity → node
    box) with its biases, then place edge labels (text, segment, fractions to try); returns the total cost,
    each bias's box and each edge label's chosen fraction and box (``None`` when unlabelled)."""
    total = 0
    bias_boxes: dict[str, Box] = {}
    for e, (text, (cx, cy, hw, hh), _) in biases.items():
        probe = _label_box(text, size, 0.0, 0.0)
        candidates = [_label_box(text, size, cx + dx * (hw + probe[2] * abs(dx) + GAP),
                                 cy + dy * (hh + probe[3] + GAP)) for dx, dy in BIAS_PLACES]
        k, cost = scene.place(candidates)
        bias_boxes[e], total = candidates[k], total + cost
    if group:
        left, bottom, right, top = _frame(list(group.values()) + [bias_boxes[e] for e in group if e in bias_boxes])
        scene.lines += [((left, bottom), (right, bottom)), ((left, top), (right, top)),
                        ((left, bottom), (left, top)), ((right, bottom), (right, top))]
        scene.labels.append(_label_box(r"\mathrm{softmax}", 8.0, (left + right) / 2, top + 0.25))
    slots: dict[int, tuple[int, list[Box]]] = {}
    for i, (text, ((x0, y0), (x1, y1)), spots) in enumerate(edges):
        if text:
            boxes = [_label_box(text, size, x0 + p * (x1 - x0), y0 + p * (y1 - y0)) for p in spots]
            slots[i] = (len(scene.labels), boxes)
            scene.place(boxes, own=edges[i][1])
    costs = {}
    for _ in range(REFINE):
        for i, (slot, boxes) in slots.items():
            costs[i] = scene.place(boxes, own=edges[i][1], slot=slot)
    chosen: list = [None] * len(edges)
    for i, (slot, boxes) in slots.items():
        k, cost = costs.get(i, (boxes.index(scene.labels[slot]), 0))
        chosen[i], total = (edges[i][2][k], boxes[k]), total + cost
    return total, bias_boxes, chosen


def _bias_label(bias: str, values: dict[str, str], named: bool) -> str:
    r"""A bias label: ``+ b``, ``+ b = 0.1``, or the bare value with its sign.

    >>> _bias_label("b", {"b": "-0.2"}, False), _bias_label("b", {"b": "0.1"}, True)
    ('-\\,0.2', '+\\,b = 0.1')
    """
    if bias in values and not named:
        value = values[bias]
        return rf"-\,{value[1:]}" if value.startswith("-") else rf"+\,{value}"
    return r"+\," + _with_values((bias,), values, named)


# --- the picture -----------------------------------------------------------------------------

def _undrawn(count: int) -> dict[str, Any]:
    return {"drawn": False, "nodes": [], "edges": [], "count": count, "x_unit": "1", "y_unit": "1",
            "labelled": False, "font": "", "weights": [], "groups": []}


def network_picture(network: Network, values: dict[str, str] | None = None) -> dict[str, Any]:
    r"""Plain data for the picture: ``nodes``, ``edges``, unit lengths, and whether it is drawn.

    ``values`` (parameter name → short LaTeX number) labels the edges ``w = 0.3`` (the number
    alone when such labels get long), the biases and parameter nodes likewise. Labels sit near
    the source end of their edge, placed so they keep clear of each other, of nodes and of the
    other edges wherever the picture leaves room.
    """
    values = values or {}
    entities, edges = _entities(network)
    if len(entities) > MAX_DRAWN_ENTITIES:
        return _undrawn(len(entities))
    column = _columns(entities, edges)
    width = max(column.values()) if column else 0
    by_column: dict[int, list[str]] = {}
    for e in entities:  # spec order within a column
        by_column.setdefault(column[e], []).append(e)
    if max(len(c) for c in by_column.values()) > MAX_COLUMN_HEIGHT:
        return _undrawn(len(entities))
    by_column = _order(_first_order(by_column, edges), column, [(a, b) for a, b, *_ in edges])
    tallest = max(len(c) for c in by_column.values())
    pairs: dict[tuple[int, int], int] = {}
    for a, b, *_ in edges:
        pairs[(column[a], column[b])] = pairs.get((column[a], column[b]), 0) + 1
    labelled = max(pairs.values(), default=0) <= MAX_LABELLED_EDGES
    x_unit = min(4.0, TEXT_WIDTH_CM / max(width, 1))
    y_unit = min(2.1 if labelled else 1.55, TEXT_HEIGHT_CM / max(tallest - 1, 1))
    dense = max(pairs.values(), default=0) >= 5
    font = r"\footnotesize" if x_unit >= 2.6 and not dense else r"\scriptsize"
    size = FONT_PT[font]
    ids = {e: f"n{i}" for i, e in enumerate(entities)}
    rows = _rows(by_column)
    centre_cm = {e: (column[e] * x_unit, rows[e] * y_unit) for e in entities}

    def name_label(p: str) -> str:
        return f"{latex_name(p)} = {values[p]}" if p in values else latex_name(p)

    node_label = {e: name_label(info["param"]) if "param" in info else info["label"] for e, info in entities.items()}
    half = {e: _node_half(entities[e]["kind"], node_label[e]) for e in entities}
    segments: dict[tuple[str, str], Segment] = {}
    for a, b, *_ in edges:
        (x0, y0), (x1, y1) = centre_cm[a], centre_cm[b]
        length = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        s, t = _border(half[a], ux, uy), length - _border(half[b], -ux, -uy)
        segments[(a, b)] = ((x0 + s * ux, y0 + s * uy), (x0 + t * ux, y0 + t * uy))
    bends = _bends(edges, column, centre_cm, half, y_unit)
    for (a, b), (_, _, offset) in bends.items():  # labels of a bent edge go along its top
        (x0, y0), (x1, y1) = centre_cm[a], centre_cm[b]
        segments[(a, b)] = ((x0 + offset[0], y0 + offset[1]), (x1 + offset[0], y1 + offset[1]))
    spec = network.spec
    softmax = [f"neuron:{n}" for n, neuron in spec.neurons.items() if neuron.activation == "softmax"]
    node_boxes = {e: ((*centre_cm[e], half[e][0], half[e][1]), half[e][2]) for e in entities}

    def attempt(named: bool) -> tuple[int, dict, dict, list]:
        """One full label pass with ``w = 0.3`` labels (``named``) or bare values."""
        texts = {e: _bias_label(info["bias"], values, named) for e, info in entities.items() if info.get("bias")}
        labels = [(_with_values(params, values, named) if params and values else label) if labelled else ""
                  for *_, label, params in edges]
        scene = _Scene(list(node_boxes.values()), list(segments.values()))
        cost, bias_boxes, chosen = _place_labels(
            scene, size, {e: (t, *node_boxes[e]) for e, t in texts.items()},
            {e: node_boxes[e][0] for e in softmax},
            [(lab, segments[(a, b)], list(BENT_LABEL_POSITIONS) if (a, b) in bends else
              [p / (column[b] - column[a]) for p in LABEL_POSITIONS])
             for lab, (a, b, *_) in zip(labels, edges)])
        return cost, texts, bias_boxes, [(lab, c) for lab, c in zip(labels, chosen)]

    named = attempt(True)
    bare = attempt(False) if values else named
    _, texts, bias_boxes, chosen = named if named[0] <= bare[0] + NAMED_SLACK else bare

    def units(x: float, y: float) -> tuple[str, str]:
        return _fmt(x / x_unit), _fmt(y / y_unit)

    groups = []
    if softmax:
        members = [ids[e] for e in softmax] + [ids[e] + "b" for e in softmax if e in texts]
        groups.append({"members": " ".join(f"({m})" for m in members), "label": "softmax"})
    nodes = []
    for e, info in entities.items():
        x, y = units(*centre_cm[e])
        bx, by = units(*bias_boxes[e][:2]) if e in bias_boxes else ("", "")
        nodes.append({"id": ids[e], "entity": e, "kind": info["kind"], "label": node_label[e], "bias": texts.get(e, ""),
                      "bias_x": bx, "bias_y": by, "objective": bool(info.get("objective")),
                      "x": x, "y": y, "column": column[e]})
    drawn_edges = []
    unlabelled = []
    for (a, b, label, params), (text, spot) in zip(edges, chosen):
        pos, box = spot if spot else (0.5, (0.0, 0.0))
        x, y = units(*box[:2])
        controls = [units(*c) for c in bends[(a, b)][:2]] if (a, b) in bends else []
        drawn_edges.append({"source": ids[a], "target": ids[b], "label": text,
                            "pos": _fmt(pos), "x": x, "y": y, "loss": entities[b]["kind"] == NodeKind.LOSS,
                            "controls": [f"{cx}, {cy}" for cx, cy in controls],
                            "params": list(params)})
        if label and not labelled:
            unlabelled.append({"label": label, "source": entities[a]["label"], "target": entities[b]["label"]})
    return {"drawn": True, "nodes": nodes, "edges": drawn_edges, "count": len(entities),
            "x_unit": _fmt(x_unit), "y_unit": _fmt(y_unit), "labelled": labelled, "font": font,
            "weights": unlabelled, "groups": groups}

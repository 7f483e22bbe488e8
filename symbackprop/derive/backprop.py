"""Cached backprop: one adjoint per node, in reverse topological order, each computed once.

``δ_u = Σ_{u→v} δ_v · ∂v/∂u``. Nets and expression nodes get a δ symbol of their own
(``delta_T = ∂E/∂net_T``, ``delta_S = ∂E/∂S``) so later formulas refer to the cached value;
an ``out`` node's adjoint ``∂E/∂out`` is inlined into its neuron's δ, as the lectures write
``δ_A = out_A(1 − out_A)(δ_α·W_Aα + δ_β·W_Aβ)``. Gradients are
``∂E/∂w = Σ_{w→v} δ_v · ∂v/∂w``.

``through_updated=True`` is the lecture variant (not the gradient): weights on the edges a
δ is propagated through are replaced by their already-updated values ``w__new = w − η·g_w``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..errors import SpecError
from ..graph import Network, product, suffix

DELTA_KINDS = ("net", "node")


@dataclass
class Adjoints:
    """What a backward pass produced: δ definitions and gradient expressions (lecture form)."""

    delta_symbols: dict[str, sp.Symbol] = field(default_factory=dict)   # node id -> δ symbol
    deltas: dict[str, sp.Expr] = field(default_factory=dict)            # node id -> δ expression
    gradients: dict[str, sp.Expr] = field(default_factory=dict)         # wrt id -> ∂E/∂wrt
    updated: dict[sp.Symbol, sp.Expr] = field(default_factory=dict)     # w__new -> w − η·g (variant)
    simplified: dict[str, tuple[sp.Expr, str]] = field(default_factory=dict)  # node id -> (form, condition)


def delta_symbol(network: Network, node: str) -> sp.Symbol:
    """``delta_<neuron or node><suffix>`` for a net or expression node."""
    attrs = network.graph.nodes[node]
    return sp.Symbol(f"delta_{attrs['owner']}{suffix(attrs['example'])}")


def relevant_nodes(network: Network) -> set[str]:
    """Nodes from which the loss can be reached (the only ones whose adjoint is not 0)."""
    import networkx as nx

    return nx.ancestors(network.graph, network.root) | {network.root}


def backprop(network: Network, *, through_updated: bool = False,
             learning_rate: sp.Expr | None = None) -> Adjoints:
    """Run the cached backward pass over ``network`` (see the module docstring)."""
    g = network.graph
    relevant = relevant_nodes(network)
    result = Adjoints()
    carried: dict[str, sp.Expr] = {network.root: sp.Integer(1)}  # what a successor hands back
    wrt = set(network.wrt)
    new_symbol: dict[str, sp.Symbol] = {}

    def updated_weight(p: str, where: str) -> sp.Symbol:
        if p not in new_symbol:
            if any(v not in carried for v in g.successors(p) if v in relevant):
                raise SpecError(f"backprop_weights: updated is not defined here: parameter '{p}' "
                                f"is used upstream of '{where}' as well", key="backprop_weights")
            sym = sp.Symbol(f"{p}__new")
            result.updated[sym] = g.nodes[p]["symbol"] - learning_rate * gather(p)
            new_symbol[p] = sym
        return new_symbol[p]

    def label(u: str, v: str) -> sp.Expr:
        expr = g.edges[u, v]["derivative"]
        if through_updated and g.nodes[u]["kind"] != "param":
            params = [s for s in expr.free_symbols if g.nodes.get(str(s), {}).get("kind") == "param"]
            expr = expr.xreplace({s: updated_weight(str(s), u) for s in params})
        return expr

    def gather(u: str) -> sp.Expr:
        return sp.Add(*[product(carried[v], label(u, v)) for v in g.successors(u) if v in relevant])

    for u in reversed(network.order):
        if u == network.root or u not in relevant:
            continue
        kind = g.nodes[u]["kind"]
        if kind in ("param", "input", "target"):
            if u in wrt:
                result.gradients[u] = gather(u)
            continue
        adjoint = gather(u)
        if kind not in DELTA_KINDS:  # an out node: inlined into its neuron's δ
            carried[u] = adjoint
            continue
        sym = delta_symbol(network, u)
        out_symbols = [g.nodes[v]["symbol"] for v in g.successors(u)
                       if g.nodes[v]["kind"] == "out" and g.nodes[v]["owner"] == g.nodes[u]["owner"]]
        result.deltas[u] = _tidy(adjoint, out_symbols)
        result.delta_symbols[u] = sym
        carried[u] = sym
    result.deltas = {n: result.deltas[n] for n in _backward_display_order(network, result.deltas)}
    result.delta_symbols = {n: result.delta_symbols[n] for n in result.deltas}
    for w in network.wrt:  # parameters that cannot reach the loss
        result.gradients.setdefault(w, sp.Integer(0))
    result.gradients = {w: result.gradients[w] for w in network.wrt}
    return result


def _backward_display_order(network: Network, nodes) -> list[str]:
    """Output layer first (as lectures go backwards), each layer in the spec's own order."""
    import networkx as nx

    depth = {n: i for i, layer in enumerate(nx.topological_generations(network.graph)) for n in layer}
    position = {n: i for i, n in enumerate(network.order)}
    return sorted(nodes, key=lambda n: (-depth[n], position[n]))


def _tidy(expr: sp.Expr, out_symbols: list[sp.Symbol]) -> sp.Expr:
    """Bring a δ computed straight from the loss into its simple lecture form.

    Only expressions with no δ symbols (the nodes next to the loss) are touched, and only
    when the result is smaller: sigmoid + BCE gives ``out − t``; softmax + cross-entropy
    ``out_k·(t_1 + … + t_K) − t_k``. Costs O(size of that one expression).
    """
    if any(str(s).startswith("delta_") for s in expr.free_symbols):
        return expr
    candidate = sp.cancel(expr)
    for out in out_symbols:
        candidate = sp.collect(sp.expand(candidate), out) if candidate.is_polynomial(out) else candidate
    return candidate if sp.count_ops(candidate) <= sp.count_ops(expr) else expr

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
from typing import Callable, Mapping

import sympy as sp

from ..errors import SpecError
from ..graph import Network, NodeKind, product
from ..names import adjoint_name, delta_name, updated_name

DELTA_KINDS = (NodeKind.NET, NodeKind.NODE)


Label = Callable[[str, str], sp.Expr]
"""An edge label ``∂v/∂u`` for the edge ``u → v``."""


@dataclass
class Adjoints:
    """What a backward pass produced: δ definitions and gradient expressions (lecture form)."""

    delta_symbols: dict[str, sp.Symbol] = field(default_factory=dict)   # node id -> δ symbol
    deltas: dict[str, sp.Expr] = field(default_factory=dict)            # node id -> δ expression
    gradients: dict[str, sp.Expr] = field(default_factory=dict)         # wrt id -> ∂E/∂wrt
    updated: dict[sp.Symbol, sp.Expr] = field(default_factory=dict)     # w__new -> w − η·g (variant)
    carried: dict[str, sp.Expr] = field(default_factory=dict)           # node id -> what it hands back


def delta_symbol(network: Network, node: str) -> sp.Symbol:
    """``delta_<neuron or node><suffix>`` for a net or expression node."""
    attrs = network.graph.nodes[node]
    return sp.Symbol(delta_name(attrs["owner"], attrs["example"]))


def relevant_nodes(network: Network) -> set[str]:
    """Nodes from which the loss can be reached (the only ones whose adjoint is not 0)."""
    import networkx as nx

    return nx.ancestors(network.graph, network.root) | {network.root}


def terms(network: Network, node: str, carried: Callable[[str], sp.Expr], label: Label,
          relevant: set[str]) -> list[tuple[str, sp.Expr, sp.Expr]]:
    """The one backward rule's terms at ``node``: ``(v, carried(v), ∂v/∂node)`` for every successor
    ``v`` that reaches the loss, in graph order — what documents print as ``Σ_v δ_v·∂v/∂node``."""
    return [(v, carried(v), label(node, v)) for v in network.graph.successors(node) if v in relevant]


def gather(network: Network, node: str, carried: Callable[[str], sp.Expr], label: Label,
           relevant: set[str]) -> sp.Expr:
    """The one backward rule, one step: ``∂E/∂node = Σ_{node→v} carried(v) · ∂v/∂node``.

    ``carried(v)`` is what successor ``v`` hands back (its cached δ, or its adjoint inlined);
    only successors that reach the loss count.

    >>> from symbackprop.spec import spec_from_mapping
    >>> from symbackprop.graph import build_network
    >>> n = build_network(spec_from_mapping({"name": "t", "inputs": ["x"],
    ...     "neurons": {"o": {"from": {"x": "w"}, "activation": "sigmoid"}},
    ...     "outputs": ["o"], "loss": "half_sse"}))
    >>> gather(n, "w", lambda v: sp.Symbol("delta_o"), graph_label(n), relevant_nodes(n))
    delta_o*x
    """
    return sp.Add(*[product(c, lab) for _, c, lab in terms(network, node, carried, label, relevant)])


def cached_carry(network: Network) -> Callable[[str], sp.Expr]:
    """What a successor hands back as lectures write it: 1 from the loss, the cached δ symbol of a net
    or expression node, and ``dE_d<out>`` (the adjoint by name) from an out node."""
    g, root = network.graph, network.root

    def carried(v: str) -> sp.Expr:
        if v == root:
            return sp.Integer(1)
        if g.nodes[v]["kind"].has_delta:
            return delta_symbol(network, v)
        return sp.Symbol(adjoint_name(v))

    return carried


def graph_label(network: Network, overrides: Mapping[tuple[str, str], sp.Expr] | None = None) -> Label:
    """The graph's own edge labels, with some replaced by ``overrides`` (how a slip changes one)."""
    edges = network.graph.edges
    if not overrides:
        return lambda u, v: edges[u, v]["derivative"]
    return lambda u, v: overrides.get((u, v), edges[u, v]["derivative"])


def variant_label(network: Network, new_value: Callable[[str, str], sp.Expr], base: Label | None = None) -> Label:
    """Labels of the lecture variant: on every edge out of a non-parameter, each parameter in the
    label is replaced by ``new_value(param, where)`` (its already-updated value)."""
    g = network.graph
    base = base or graph_label(network)

    def label(u: str, v: str) -> sp.Expr:
        expr = base(u, v)
        if g.nodes[u]["kind"] == NodeKind.PARAM:
            return expr
        params = [s for s in expr.free_symbols if g.nodes.get(str(s), {}).get("kind") == NodeKind.PARAM]
        return expr.xreplace({s: new_value(str(s), u) for s in params}) if params else expr

    return label


def backprop(network: Network, *, through_updated: bool = False, learning_rate: sp.Expr | None = None,
             labels: Mapping[tuple[str, str], sp.Expr] | None = None, cache: bool = True,
             start: str | None = None) -> Adjoints:
    """Run the cached backward pass over ``network`` (see the module docstring).

    The one reverse sweep of symbackprop; its generalisations serve every consumer:

    - ``labels`` replaces some edge labels (the checker's slips);
    - ``cache=False`` hands back every adjoint inlined instead of as a δ symbol, so each
      ``carried[node]`` is ``∂E/∂node`` in forward symbols only (no δ);
    - ``through_updated`` is the lecture variant: weights on the edges a δ is propagated
      through become their updated values (``w__new`` symbols, or ``w − η·g`` inlined when
      ``cache=False``); raises :class:`SpecError` when a weight is also used upstream;
    - ``start`` limits the sweep to the nodes between ``start`` and the loss.

    >>> from symbackprop.spec import spec_from_mapping
    >>> from symbackprop.graph import build_network
    >>> n = build_network(spec_from_mapping({"name": "t", "inputs": ["x"],
    ...     "neurons": {"h": {"from": {"x": "u"}, "activation": "identity"},
    ...                 "o": {"from": {"h": "w"}, "activation": "identity"}},
    ...     "outputs": ["o"], "loss": "half_sse"}))
    >>> a = backprop(n)
    >>> a.deltas["net_h"], a.gradients["u"]
    (delta_o*w, delta_h*x)
    >>> backprop(n, cache=False, start="u").carried["u"]
    w*x*(out_o - t_o)
    """
    g = network.graph
    relevant = relevant_nodes(network)
    if start is not None and not through_updated:
        import networkx as nx

        relevant = (nx.descendants(g, start) | {start}) & relevant
    result = Adjoints()
    carried = result.carried
    carried[network.root] = sp.Integer(1)
    wrt = set(network.wrt)
    new_value: dict[str, sp.Expr] = {}

    def updated_weight(p: str, where: str) -> sp.Expr:
        if p not in new_value:
            if any(v not in carried for v in g.successors(p) if v in relevant):
                raise SpecError(f"backprop_weights: updated is not defined here: parameter '{p}' "
                                f"is used upstream of '{where}' as well", key="backprop_weights")
            step = g.nodes[p]["symbol"] - learning_rate * gather(network, p, carried.__getitem__, base, relevant)
            if cache:
                sym = sp.Symbol(updated_name(p))
                result.updated[sym] = step
                step = sym
            new_value[p] = step
        return new_value[p]

    base = graph_label(network, labels)
    label = variant_label(network, updated_weight, base) if through_updated else base

    for u in reversed(network.order):
        if u == network.root or u not in relevant:
            continue
        kind = g.nodes[u]["kind"]
        if kind.is_leaf and cache and u not in wrt:
            continue
        adjoint = gather(network, u, carried.__getitem__, label, relevant)
        if kind.is_leaf:
            if u in wrt:
                result.gradients[u] = adjoint
            if not cache:
                carried[u] = adjoint
            continue
        if not cache or not kind.has_delta:  # an out node: inlined into its neuron's δ
            carried[u] = adjoint
            continue
        sym = delta_symbol(network, u)
        out_symbols = [g.nodes[v]["symbol"] for v in g.successors(u)
                       if g.nodes[v]["kind"] == NodeKind.OUT and g.nodes[v]["owner"] == g.nodes[u]["owner"]]
        result.deltas[u] = tidy(adjoint, out_symbols)
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


def tidy(expr: sp.Expr, out_symbols: list[sp.Symbol]) -> sp.Expr:
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

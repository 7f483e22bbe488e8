"""The multivariate chain rule as lectures first teach it: a sum over every path.

``∂E/∂w = Σ_{paths w ⇝ E} Π (edge labels along the path)``. Paths are counted first by
dynamic programming over the topological order (cheap, exact, even for 10³⁰ paths), and
enumeration is refused past a limit: path counts grow exponentially with depth.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import sympy as sp

from ..errors import SpecError
from ..graph import Network
from .backprop import DELTA_KINDS, relevant_nodes

DEFAULT_MAX_PATHS = 10_000


@dataclass(frozen=True)
class PathTerm:
    """One path from a node to the loss and the product of its edge labels."""

    nodes: tuple[str, ...]
    factors: tuple[sp.Expr, ...]

    @property
    def product(self) -> sp.Expr:
        return sp.Mul(*self.factors)


def path_counts(network: Network, cut: frozenset[tuple[str, str]] = frozenset()) -> dict[str, int]:
    """Number of paths from every node to the loss (0 where it cannot be reached), none through
    an edge in ``cut``.

    >>> from symbackprop.spec import spec_from_mapping
    >>> from symbackprop.graph import build_network
    >>> n = build_network(spec_from_mapping({"name": "t", "layers": [1, 2, 1], "activation": "sigmoid",
    ...                                          "loss": "sse"}))
    >>> path_counts(n)["w1_1_1"]
    1
    """
    g = network.graph
    counts = {n: 0 for n in g}
    counts[network.root] = 1
    for u in reversed(network.order):
        if u != network.root:
            counts[u] = sum(counts[v] for v in g.successors(u) if (u, v) not in cut)
    return counts


def _walk(network: Network, start: str, relevant: set[str],
          cut: frozenset[tuple[str, str]] = frozenset()) -> Iterator[tuple[str, ...]]:
    g = network.graph
    stack = [(start,)]
    while stack:
        path = stack.pop()
        last = path[-1]
        if last == network.root:
            yield path
            continue
        successors = [v for v in g.successors(last) if v in relevant and (last, v) not in cut]
        stack.extend(path + (v,) for v in reversed(successors))


def enumerate_paths(network: Network, start: str, cut: frozenset[tuple[str, str]] = frozenset()) -> list[PathTerm]:
    """Every path from ``start`` to the loss with its factors, in a deterministic order (none
    through an edge in ``cut``: truncated BPTT's detached edges).

    >>> from symbackprop.spec import spec_from_mapping
    >>> from symbackprop.graph import build_network
    >>> n = build_network(spec_from_mapping({"name": "t", "inputs": ["x"],
    ...     "neurons": {"o": {"from": {"x": "w"}, "activation": "sigmoid"}},
    ...     "outputs": ["o"], "loss": "half_sse"}))
    >>> for term in enumerate_paths(n, "w"):
    ...     print(" -> ".join(term.nodes), "  product:", term.product)
    w -> net_o -> out_o -> E   product: out_o*x*(1 - out_o)*(out_o - t_o)
    """
    g = network.graph
    relevant = relevant_nodes(network)
    return [PathTerm(p, tuple(g.edges[a, b]["derivative"] for a, b in zip(p, p[1:])))
            for p in _walk(network, start, relevant, cut)]


def adjoints_by_paths(network: Network, *, max_paths: int = DEFAULT_MAX_PATHS, cut=frozenset()):
    """Every δ and gradient as a sum over paths (none through an edge in ``cut``). Returns
    (deltas, gradients, paths per node).

    Raises :class:`SpecError` when the total number of paths exceeds ``max_paths``.

    >>> from symbackprop.spec import spec_from_mapping
    >>> from symbackprop.graph import build_network
    >>> n = build_network(spec_from_mapping({"name": "t", "inputs": ["x"],
    ...     "neurons": {"o": {"from": {"x": "w"}, "activation": "identity"}},
    ...     "outputs": ["o"], "loss": "half_sse"}))
    >>> deltas, gradients, terms = adjoints_by_paths(n)
    >>> gradients["w"], len(terms["w"])
    (x*(out_o - t_o), 1)
    """
    counts = path_counts(network)
    g = network.graph
    relevant = relevant_nodes(network)
    delta_nodes = [n for n in network.order if g.nodes[n]["kind"] in DELTA_KINDS
                   and n in relevant and n != network.root]
    total = sum(counts[n] for n in list(network.wrt) + delta_nodes)
    if total > max_paths:
        raise SpecError(f"{total:,} paths to enumerate exceed the limit of {max_paths:,}; "
                        "use --method backprop (or raise --max-paths)", key="method")
    terms = {n: enumerate_paths(network, n, frozenset(cut)) for n in list(network.wrt) + delta_nodes}
    sums = {n: sp.Add(*[t.product for t in ts]) for n, ts in terms.items()}
    deltas = {n: sums[n] for n in delta_nodes}
    gradients = {w: sums[w] for w in network.wrt}
    return deltas, gradients, terms

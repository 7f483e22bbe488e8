r"""Element-wise maps: expression nodes that apply a function to one neuron's output each.

A node such as ``d1: "2*h1"`` (inverted dropout with a fixed mask), ``g1: "h1*m1"`` (a mask
given as an input) or ``r1: "max(h1, 0)"`` reads exactly one neuron's ``out`` (or the map
before it, for a chain ``e1: "d1**2"``), and besides that only numbers and *side inputs*:
inputs that feed no neuron, such as masks. In matrix form such a map is part of its layer's
activation, ``h⁽ˡ⁾ = φ(f(a⁽ˡ⁾))``, and its Jacobian ``diag(f′·φ′)`` is the product of the
graph's own edge labels along the chain (:mod:`symbackprop.layers.view`). The neuron's
``out`` (and each map but the last) must feed nothing else, so the next layer reads ``h⁽ˡ⁾``.

>>> from symbackprop import derive, spec_from_mapping
>>> d = derive(spec_from_mapping({"name": "t", "inputs": ["x", "m"],
...     "neurons": {"h": {"from": {"x": "w"}, "activation": "sigmoid"},
...                 "y": {"from": {"g": "v"}, "activation": "identity"}},
...     "nodes": {"g": "h*m"}, "outputs": ["y"], "loss": "half_sse"}))
>>> maps = find_maps(d.network)
>>> maps.chains, maps.side_inputs, maps.end("h"), maps.end("y")
({'h': ('g',)}, ('m',), 'g', 'y')
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..errors import SpecError
from ..graph import Network
from ..names import suffix


class NotLayered(SpecError):
    """The network is not a stack of fully separated layers (no matrix form)."""


@dataclass(frozen=True)
class Maps:
    """The element-wise maps of a network: each neuron's chain of map nodes, first applied first."""

    chains: dict[str, tuple[str, ...]]
    side_inputs: tuple[str, ...] = ()
    owner: dict[str, str] = field(default_factory=dict)   # map node → its neuron

    def end(self, neuron: str) -> str:
        """The name the next layer (or the loss) reads for ``neuron``: its last map, or itself."""
        chain = self.chains.get(neuron)
        return chain[-1] if chain else neuron


def _first_copy(network: Network, name: str) -> str:
    """The node id of ``name`` in the first example's copy."""
    return name + suffix(1 if network.spec.has_data else None)


def _reader(network: Network, node_id: str) -> str:
    """A graph node's user-facing name: the neuron for an out, the node's label otherwise."""
    attrs = network.graph.nodes[node_id]
    return attrs["owner"] if attrs["kind"] in ("net", "out", "target") else attrs["label"]


def map_derivative(graph, neuron: str, chain: tuple[str, ...], sfx: str = "") -> sp.Expr:
    """``φ′`` of one unit: the product of the edge labels from its out along its map chain (1 without).

    >>> import networkx as nx
    >>> g = nx.DiGraph()
    >>> g.add_edge("out_h", "d", derivative=sp.Integer(2)); g.add_edge("d", "e", derivative=sp.Symbol("e"))
    >>> map_derivative(g, "h", ("d", "e")), map_derivative(g, "h", ())
    (2*e, 1)
    """
    factors, previous = [], f"out_{neuron}{sfx}"
    for node in chain:
        factors.append(graph.edges[previous, node + sfx]["derivative"])
        previous = node + sfx
    return sp.Mul(*factors)


def map_definition(network: Network, node: str) -> sp.Expr:
    """A map node's definition in the spec's names: the first example's copy, the example index dropped."""
    sfx = _first_copy(network, "")
    definition = network.graph.nodes[node + sfx]["definition"]
    if not sfx:
        return definition
    return definition.xreplace({s: sp.Symbol(s.name.removesuffix(sfx)) for s in definition.free_symbols})


def find_maps(network: Network) -> Maps:
    """Every expression node as an element-wise map; :class:`NotLayered` names the first that is not."""
    spec, g = network.spec, network.graph
    neuron_inputs = {s for nr in spec.neurons.values() for s, _ in nr.sources if s in spec.inputs}
    parent: dict[str, str] = {}
    side: list[str] = []
    for n in spec.nodes:
        key = f"nodes.{n}"
        reads = []
        preds = sorted(g.predecessors(_first_copy(network, n)))
        for pred in preds:
            attrs = g.nodes[pred]
            name = _reader(network, pred)
            if attrs["kind"] == "param":
                raise NotLayered(f"'{n}' uses the parameter '{name}': an element-wise map has no "
                                 "parameters in matrix form", key=key)
            if attrs["kind"] == "input":
                if name in neuron_inputs:
                    raise NotLayered(f"'{n}' reads the input '{name}', which also feeds neurons "
                                     "(a skip connection): no matrix form", key=key)
                if name not in side:
                    side.append(name)
            elif attrs["kind"] in ("out", "node"):
                reads.append(name)
        if not reads:
            what = "only inputs and numbers" if preds else "a constant"
            raise NotLayered(f"'{n}' reads no neuron ({what}), so it is no element-wise map after a layer: "
                             "no matrix form (a unit dropped by a mask is written \"h*m\" with a mask input "
                             "m = 0)", key=key)
        if len(reads) > 1:
            named = " and ".join(reads) if len(reads) <= 3 else f"{', '.join(reads[:2])} and {len(reads) - 2} more"
            raise NotLayered(f"'{n}' reads {named}: not element-wise over a layer (a map reads one "
                             "neuron): no matrix form", key=key)
        parent[n] = reads[0]
    for n, read in parent.items():
        source = _first_copy(network, f"out_{read}" if read in spec.neurons else read)
        others = sorted({_reader(network, s) for s in g.successors(source)} - {n})
        if others:
            raise NotLayered(f"'{read}' feeds both the map '{n}' and '{others[0]}': a mapped unit "
                             "feeds its map only (no matrix form)", key=f"nodes.{n}")
    chains: dict[str, tuple[str, ...]] = {}
    owner: dict[str, str] = {}
    for n in spec.nodes:  # in the spec's order; a chain's first map reads a neuron
        root, chain = n, [n]
        while parent[root] in parent:
            root = parent[root]
            chain.insert(0, root)
        if parent[root] not in spec.neurons:  # reads a batch_norm value or another non-neuron
            raise NotLayered(f"'{n}' reads '{parent[root]}', which is not a neuron: no matrix form",
                             key=f"nodes.{n}")
        neuron = parent[root]
        owner[n] = neuron
        if len(chain) > len(chains.get(neuron, ())):
            chains[neuron] = tuple(chain)
    ordered = {n: chains[n] for n in spec.neurons if n in chains}
    return Maps(ordered, tuple(i for i in spec.inputs if i in side), owner)


__all__ = ["Maps", "NotLayered", "find_maps", "map_definition", "map_derivative"]

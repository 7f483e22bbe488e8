"""The derivation's warnings: every node evaluated at (or within 1e-12 of) a kink or a tie.

>>> from symbackprop.spec import spec_from_mapping
>>> from symbackprop.derive import derive
>>> d = derive(spec_from_mapping({"name": "t", "inputs": ["x"], "params": ["a", "b"],
...     "nodes": {"m": "max(a*x, b)"}, "objective": "m",
...     "values": {"inputs": {"x": 1}, "params": {"a": 0.5, "b": 0.5}}}))
>>> [(w["node"], w["kind"]) for w in d.warnings], d.numbers.gradients
([('m', 'max')], {'a': 1.0, 'b': 0.0})
"""
from __future__ import annotations

from typing import Mapping

from ..graph import Network
from ..kinks import TOLERANCE, kinks


def kink_warnings(network: Network, forward: Mapping[str, float],
                  tolerance: float = TOLERANCE) -> list[dict[str, str]]:
    """``{"node", "kind", "message"}`` for every call at (within ``tolerance`` of) a kink or tie,
    node by node in forward order."""
    g = network.graph
    values = {g.nodes[n]["symbol"]: v for n, v in forward.items() if n in g}
    out = []
    for node in network.order:
        definition = g.nodes[node]["definition"]
        if definition is None:
            continue
        for k in kinks(definition, values, tolerance):
            out.append({"node": node, "kind": k.kind, "message": f"node {node}: {k.message}"})
    return out

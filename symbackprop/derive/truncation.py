"""Truncated backpropagation through time (``recurrent: {truncate: k}``): a labelled variant.

The δs are not carried back across the recurrent edges the spec's ``detached`` lists (the
state is detached every ``k`` steps, counting back from the last): those edges' labels
``∂net_{h_t}/∂h_{t−1} = W`` become 0 in the backward pass. The figures are then *not* the
gradient; :func:`symbackprop.derive.derive` gives the true gradient beside them.

>>> from symbackprop.spec import spec_from_mapping
>>> from symbackprop.graph import build_network
>>> n = build_network(spec_from_mapping({"name": "r", "loss": "half_sse",
...     "recurrent": {"steps": 3, "truncate": 1}}))
>>> truncation_cuts(n)
{('out_h_2', 'net_h_3'): 0, ('out_h_1', 'net_h_2'): 0}
"""
from __future__ import annotations

import sympy as sp

from ..graph import Network
from ..names import suffix

TRUNCATED_NOTE = ("truncate: {k} - truncated backpropagation through time: the deltas are carried back "
                  "at most {k} step{s} (the state is detached every {k} step{s}, counting back from the last). "
                  "These are NOT the gradient; the true gradient is given beside.")


def truncation_cuts(network: Network) -> dict[tuple[str, str], sp.Expr]:
    """The edge labels the truncated backward pass replaces by 0, every example's copy."""
    spec, g = network.spec, network.graph
    cuts: dict[tuple[str, str], sp.Expr] = {}
    for example in ([None] if not spec.has_data else range(1, network.examples + 1)):
        sfx = suffix(example)
        for source, neuron in spec.detached:
            u = (f"out_{source}" if source in spec.neurons else source) + sfx
            v = f"net_{neuron}{sfx}"
            if g.has_edge(u, v):
                cuts[(u, v)] = sp.Integer(0)
    return cuts


def truncated_note(spec) -> str:
    """The variant's note, with its ``k``."""
    k = (spec.raw.get("recurrent") or {}).get("truncate")
    return TRUNCATED_NOTE.format(k=k, s="" if k == 1 else "s")

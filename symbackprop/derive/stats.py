"""Operation counts for the full gradient, both ways (WE-14: why backprop is cheaper).

Counts are of the formulas as written: multiplications (``*``, ``/``, powers), additions
(``+``, ``−``) and other operations (function calls such as σ or exp). The forward pass is
the same for both methods and not counted. Path costs come from dynamic programming over the
graph, so they are exact even when the paths are far too many to enumerate.

>>> import sympy as sp
>>> operations(sp.Symbol("a") * sp.Symbol("b") + 1)
{'mul': 1, 'add': 1, 'other': 0}
"""
from __future__ import annotations

import sympy as sp

from ..graph import Network

_MUL, _ADD = {"MUL", "DIV", "POW"}, {"ADD", "SUB", "NEG"}


def operations(expr: sp.Expr) -> dict[str, int]:
    """``{"mul", "add", "other"}`` operation counts of one expression."""
    visual = sp.count_ops(expr, visual=True)
    counts = {"mul": 0, "add": 0, "other": 0}
    terms = visual.as_ordered_terms() if isinstance(visual, sp.Add) else [visual]
    for term in terms:
        if term == 0:
            continue
        coeff, op = term.as_coeff_Mul()
        kind = "mul" if str(op) in _MUL else "add" if str(op) in _ADD else "other"
        counts[kind] += int(coeff)
    return counts


def _add(a: dict[str, int], b: dict[str, int], times: int = 1) -> dict[str, int]:
    return {k: a[k] + times * b[k] for k in a}


def backprop_cost(delta_exprs, gradient_exprs) -> dict[str, int]:
    """Cost of evaluating every cached δ once, then every gradient from the cached δs."""
    total = {"mul": 0, "add": 0, "other": 0}
    for expr in list(delta_exprs) + list(gradient_exprs):
        total = _add(total, operations(expr))
    return total


def paths_cost(network: Network) -> dict[str, int]:
    """Cost of evaluating each wrt's path sum independently: products along paths, then sums."""
    g = network.graph
    zero = {"mul": 0, "add": 0, "other": 0}
    paths = {n: 0 for n in g}
    edges = {n: 0 for n in g}          # total edges over all paths from n
    inside = {n: dict(zero) for n in g}  # total label operations over all paths from n
    paths[network.root] = 1
    label_ops: dict[tuple[str, str], dict[str, int]] = {}
    for u in reversed(network.order):
        if u == network.root:
            continue
        for v in g.successors(u):
            if not paths[v]:
                continue
            ops = label_ops.setdefault((u, v), operations(g.edges[u, v]["derivative"]))
            paths[u] += paths[v]
            edges[u] += edges[v] + paths[v]
            inside[u] = _add(_add(inside[u], inside[v]), ops, paths[v])
    total = dict(zero)
    for w in network.wrt:
        if paths[w]:
            joins = {"mul": edges[w] - paths[w], "add": paths[w] - 1, "other": 0}
            total = _add(total, _add(inside[w], joins))
    return total


def stats(d) -> dict:
    """Operation counts of both methods for the full gradient of a :class:`Derivation`, and the
    number of paths from its parameters to the loss (``--stats``, ``Derivation.stats``).

    >>> from symbackprop.spec import spec_from_mapping
    >>> from symbackprop.derive import derive
    >>> d = derive(spec_from_mapping({"name": "t", "layers": [1, 2, 1], "activation": "sigmoid",
    ...                               "loss": "half_sse"}))
    >>> d.stats["paths"], d.stats["operations"]["backprop"]["mul"] > 0
    (4, True)
    """
    network, adjoints = d.network, d.adjoints
    return {
        "operations": {
            "backprop": backprop_cost(adjoints.deltas.values(), adjoints.gradients.values()),
            "paths": paths_cost(network),
        },
        "paths": sum(d.gradients[w].path_count for w in network.wrt),
    }

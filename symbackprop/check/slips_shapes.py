"""Slips of the shapes beyond the MLP: a residual network's skip edge left out, the sigmoid's δ
``p(1 − p)(p − t)`` written for softmax with cross-entropy (whose δ is ``p − t``), and batch
normalisation's mean or variance taken as a constant.

Registered in :data:`~symbackprop.check.slips.SLIPS` like every other slip (the package's
``__init__`` imports this module, so the registry holds them whenever :mod:`symbackprop.check` is used).
"""
from __future__ import annotations

import sympy as sp

from .context import CheckContext
from .slips import ANSWER, DELTA, GRADIENT, Change, _examples_note, _scope, register


def _fixed_edges(ctx: CheckContext, start: str | None) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(source, neuron) → its edges (one per example) with a fixed weight (``from: {x: 1}``), in scope."""
    g, scope = ctx.graph, _scope(ctx, start)
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for v in ctx.order:
        if v not in scope or ctx.kind(v) != "net":
            continue
        for u in g.predecessors(v):
            if u in scope and ctx.kind(u) != "param" and ctx.label(u, v).is_Number:
                source = g.nodes[u]["owner"] if ctx.kind(u) == "out" else g.nodes[u]["label"]
                out.setdefault((source, g.nodes[v]["owner"]), []).append((u, v))
    return out


@register("missing_skip", "skip edge left out",
          "a residual (skip) edge with a fixed weight, e.g. h = x + f(x), left out of the chain: "
          "the path along the skip is missing")
def _missing_skip(ctx: CheckContext, start: str | None):
    found = _fixed_edges(ctx, start)
    for (source, neuron), edges in found.items():
        weight = ctx.label(*edges[0])
        yield Change(f"the skip edge {source} → {neuron} (fixed weight {weight}) is left out: its path is "
                     f"missing{_examples_note(edges)}", labels={e: sp.Integer(0) for e in edges},
                     applies=frozenset({ANSWER, DELTA, GRADIENT}))
    if len(found) > 1:
        yield Change("every skip edge is left out (the network treated as a plain chain)",
                     labels={e: sp.Integer(0) for edges in found.values() for e in edges},
                     applies=frozenset({ANSWER, DELTA, GRADIENT}))


@register("softmax_sigmoid_delta", "sigmoid δ for softmax + cross-entropy",
          "δ_k = p_k(1 − p_k)(p_k − t_k), the sigmoid-with-squared-error δ, written for softmax with "
          "cross-entropy, whose δ is p_k − t_k")
def _softmax_sigmoid_delta(ctx: CheckContext, start: str | None):
    spec, g = ctx.spec, ctx.graph
    if spec.loss != "cross_entropy":
        return
    scope = _scope(ctx, start)
    labels: dict[tuple[str, str], sp.Expr] = {}
    for o in g.predecessors(ctx.root):
        if o not in scope or ctx.kind(o) != "out" or spec.neurons[g.nodes[o]["owner"]].activation != "softmax":
            continue
        p, sfx = ctx.symbol(o), o.removeprefix(f"out_{g.nodes[o]['owner']}")
        t = ctx.symbol(f"t_{g.nodes[o]['owner']}{sfx}")
        scale = sp.Rational(1, ctx.examples) if spec.reduction == "mean" else sp.Integer(1)
        labels[(o, ctx.root)] = scale * (p - t)        # ∂E/∂p as for squared error
        for net in g.predecessors(o):                  # the softmax Jacobian as if each p were a sigmoid
            if ctx.kind(net) == "net":
                labels[(net, o)] = p * (1 - p) if g.nodes[net]["owner"] == g.nodes[o]["owner"] else sp.Integer(0)
    if labels:
        yield Change("δ_k written as p_k(1 − p_k)(p_k − t_k), the sigmoid δ, for softmax with cross-entropy "
                     "(whose δ is p_k − t_k)", labels=labels, applies=frozenset({ANSWER, DELTA}))


@register("batch_stats_constant", "batch mean or variance taken as a constant",
          "batch normalisation differentiated as if the batch's mean (or variance, or both) did not depend on "
          "the examples: the paths through mu and var are missing")
def _batch_stats_constant(ctx: CheckContext, start: str | None):
    g, scope = ctx.graph, _scope(ctx, start)
    for norm in ctx.spec.batch_norms.values():
        parts = {}
        for stat, words in ((norm.mean, "mean"), (norm.variance, "variance")):
            if stat in scope:
                parts[words] = {(u, stat): sp.Integer(0) for u in g.predecessors(stat)}  # all its inputs
        for words, labels in parts.items():
            if labels:
                stat = norm.mean if words == "mean" else norm.variance
                yield Change(f"the batch {words} {stat} of {norm.name} is taken as a constant: the paths through "
                             f"it are missing", labels=labels, applies=frozenset({ANSWER, DELTA, GRADIENT}))
        if len(parts) == 2 and all(parts.values()):
            yield Change(f"the batch mean and variance of {norm.name} are taken as constants (only the direct "
                         f"path through each example's own {norm.name} is kept)",
                         labels={**parts["mean"], **parts["variance"]}, applies=frozenset({ANSWER, DELTA, GRADIENT}))

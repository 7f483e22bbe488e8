"""Lecture forms of a δ next to the loss that hold under a condition (softmax + cross-entropy)."""
from __future__ import annotations

import sympy as sp

from ..graph import Network, NodeKind
from ..losses import LOSSES
from ..names import suffix


def one_hot_form(network: Network, node: str, expr: sp.Expr) -> tuple[sp.Expr | None, str | None]:
    """softmax + cross-entropy: ``δ_k = out_k·Σt − t_k`` is ``out_k − t_k`` when the targets sum to 1.

    The simple form is proved, not assumed: eliminating ``t_k = 1 − Σ_{j≠k} t_j`` from the
    difference must give 0. Returns ``(form, condition)``, or ``(None, None)`` where no such
    form applies.
    """
    spec, g = network.spec, network.graph
    attrs = g.nodes[node]
    loss = LOSSES.get(spec.loss or "")
    if not (loss and loss.one_hot_simplifies and attrs["kind"] == NodeKind.NET
            and spec.neurons[attrs["owner"]].activation == "softmax"):
        return None, None
    sfx = suffix(attrs["example"])
    targets = [g.nodes[f"t_{o}{sfx}"]["symbol"] for o in spec.outputs]
    out_k, t_k = (g.nodes[f"{p}_{attrs['owner']}{sfx}"]["symbol"] for p in ("out", "t"))
    scale = sp.Rational(1, network.examples) if spec.reduction == "mean" else sp.Integer(1)
    candidate = scale * (out_k - t_k)
    others = sp.Add(*[t for t in targets if t != t_k])
    if sp.expand((expr - candidate).xreplace({t_k: 1 - others})) != 0:
        return None, None
    condition = "the targets sum to 1 (one-hot)"
    if spec.has_values:
        holds = all(sum(ex.targets.values()) == 1 for ex in spec.examples)
        condition += ": holds for the given targets" if holds else ": does NOT hold for the given targets"
    return candidate, condition

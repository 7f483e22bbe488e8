"""Derive ∂E/∂w for every parameter, by cached backprop or by enumerating paths.

>>> from symbackprop.spec import spec_from_mapping
>>> d = derive(spec_from_mapping({"name": "t", "inputs": ["x"],
...     "neurons": {"o": {"from": {"x": "w"}, "activation": "identity"}},
...     "outputs": ["o"], "loss": "half_sse"}))
>>> d.gradients["w"].expression, d.deltas["o"].expression
(delta_o*x, out_o - t_o)
"""
from __future__ import annotations

from dataclasses import replace

import sympy as sp

from ..errors import SpecError
from ..graph import Network, build_network, suffix
from ..losses import LOSSES
from ..numeric import evaluate
from ..spec import Spec
from .backprop import Adjoints, backprop, delta_symbol
from .expand import DEFAULT_LIMIT
from .paths import DEFAULT_MAX_PATHS, adjoints_by_paths, path_counts
from .result import DeltaEntry, Derivation, GradientEntry, Numbers

METHODS = ("backprop", "paths")
VARIANT_NOTE = ("backprop_weights: updated - hidden deltas are propagated through the already "
                "updated weights, as the lecture solution does. These are NOT the gradient; the "
                "true gradient is given beside.")


def derive(spec: Spec, method: str = "backprop", *, max_paths: int = DEFAULT_MAX_PATHS,
           expansion_limit: int = DEFAULT_LIMIT) -> Derivation:
    """Derive every gradient of ``spec`` by ``method`` (``"backprop"`` or ``"paths"``).

    Raises :class:`SpecError` for a structural mistake, or for ``paths`` past ``max_paths``.
    """
    if method not in METHODS:
        raise SpecError(f"unknown method '{method}' (choose backprop or paths)", key="method")
    if method == "paths" and spec.backprop_weights == "updated":
        raise SpecError("the lecture variant is a backprop procedure, not a sum over paths; "
                        "use --method backprop", key="backprop_weights")
    network = build_network(spec)
    counts = path_counts(network)
    true = backprop(network)
    variant = None
    if spec.backprop_weights == "updated":
        variant = backprop(network, through_updated=True, learning_rate=spec.learning_rate)
    shown = variant or true
    paths = adjoints_by_paths(network, max_paths=max_paths) if method == "paths" else None

    deltas = {}
    for node, expr in shown.deltas.items():
        key = node.removeprefix("net_")
        simplified, condition = _one_hot_form(network, node, expr)
        if paths is not None:
            expr = paths[0][node]
        deltas[key] = DeltaEntry(node=node, key=key, symbol=shown.delta_symbols[node], expression=expr,
                                 simplified=simplified, condition=condition,
                                 paths=tuple(paths[2][node]) if paths is not None else None)
    gradients = {}
    for w, expr in shown.gradients.items():
        if paths is not None:
            expr = paths[1][w]
        gradients[w] = GradientEntry(name=w, expression=expr, path_count=counts[w],
                                     paths=tuple(paths[2][w]) if paths is not None else None)
    notes = [VARIANT_NOTE] if variant else []
    derivation = Derivation(
        network=network, method=method, deltas=deltas, gradients=gradients,
        updated_definitions=dict(shown.updated),
        true_deltas={n.removeprefix("net_"): e for n, e in true.deltas.items()} if variant else None,
        true_gradients=dict(true.gradients) if variant else None,
        notes=tuple(notes), expansion_limit=expansion_limit,
    )
    if spec.has_values:
        derivation = replace(derivation, numbers=_numbers(derivation, true if variant else None))
    return derivation


def _one_hot_form(network: Network, node: str, expr: sp.Expr) -> tuple[sp.Expr | None, str | None]:
    """softmax + cross-entropy: ``δ_k = out_k·Σt − t_k`` is ``out_k − t_k`` when the targets sum to 1.

    The simple form is proved, not assumed: eliminating ``t_k = 1 − Σ_{j≠k} t_j`` from the
    difference must give 0.
    """
    spec, g = network.spec, network.graph
    attrs = g.nodes[node]
    loss = LOSSES.get(spec.loss or "")
    if not (loss and loss.one_hot_simplifies and attrs["kind"] == "net"
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


def _numbers(d: Derivation, true: Adjoints | None) -> Numbers:
    network, spec = d.network, d.spec

    def leaf_values(params: dict) -> dict[sp.Symbol, float]:
        return network.leaf_values(params, float)

    params = {p: float(v) for p, v in spec.params_values.items()}
    forward_defs = network.definitions()
    forward_syms = [s for s, _ in forward_defs]
    wanted = forward_syms + [e.symbol for e in d.deltas.values()]
    grad_syms = {w: sp.Symbol(f"grad__{w}") for w in d.gradients}
    definitions = d.definitions() + [(grad_syms[w], e.expression) for w, e in d.gradients.items()]
    extra_true = []
    if true is not None:
        true_delta_syms = {n: sp.Symbol(f"{s}__true") for n, s in true.delta_symbols.items()}
        rename = {true.delta_symbols[n]: true_delta_syms[n] for n in true.deltas}
        extra_true += [(true_delta_syms[n], e.xreplace(rename)) for n, e in true.deltas.items()]
        extra_true += [(sp.Symbol(f"grad__{w}__true"), e.xreplace(rename)) for w, e in true.gradients.items()]
    definitions += extra_true
    wanted_all = wanted + list(grad_syms.values()) + [s for s, _ in extra_true]
    leaves = leaf_values(params)
    values = evaluate(definitions, leaves, wanted_all)
    by_name = {str(s): v for s, v in values.items()}
    forward_set = set(forward_syms)
    forward = {str(s): v for s, v in values.items() if s in forward_set}
    forward.update({str(s): float(v) for s, v in leaves.items()})
    deltas = {k: by_name[str(e.symbol)] for k, e in d.deltas.items()}
    gradients = {w: by_name[f"grad__{w}"] for w in d.gradients}
    updated = forward_after = None
    if spec.learning_rate is not None:
        eta = float(spec.learning_rate)
        updated = {p: params[p] - eta * gradients[p] if p in gradients else params[p] for p in params}
        after = evaluate(forward_defs, leaf_values(updated), forward_syms)
        forward_after = {str(s): v for s, v in after.items()}
    true_deltas = true_gradients = None
    if true is not None:
        true_deltas = {n.removeprefix("net_"): by_name[f"{s}__true"] for n, s in true.delta_symbols.items()}
        true_gradients = {w: by_name[f"grad__{w}__true"] for w in true.gradients}
    return Numbers(forward=forward, deltas=deltas, gradients=gradients, updated_params=updated,
                   forward_after=forward_after, true_deltas=true_deltas, true_gradients=true_gradients)


__all__ = ["derive", "Derivation", "METHODS", "delta_symbol"]

"""Every number a derivation shows, computed once: one straight-line program per derivation.

Forward values, every δ, every ``∂E/∂out`` handed back, every gradient, the loss of each
example, and (with a learning rate) the update and the second forward pass -- the same program
run again at the updated parameters (its backward half costs microseconds).
"""
from __future__ import annotations

import sympy as sp

from ..graph import NodeKind
from ..straightline import compile_program, run
from .backprop import Adjoints
from .result import Derivation, Numbers


def compute_numbers(d: Derivation, adjoints: Adjoints) -> Numbers:
    """Float64 values of ``d`` at its spec's values (``adjoints``: the backward pass it came from)."""
    network, spec = d.network, d.spec
    g = network.graph
    params = {p: float(v) for p, v in spec.params_values.items()}
    forward_defs = network.definitions()
    forward_syms = [s for s, _ in forward_defs]
    grad_syms = {w: sp.Symbol(f"grad__{w}") for w in d.gradients}
    out_nodes = [n for n in adjoints.carried if g.nodes[n]["kind"] == NodeKind.OUT]
    out_syms = {n: sp.Symbol(f"adjoint__{n}") for n in out_nodes}
    own_out = {n: v for n in g if g.nodes[n]["kind"] == NodeKind.NET for v in g.successors(n)
               if g.nodes[v]["kind"] == NodeKind.OUT and g.nodes[v]["owner"] == g.nodes[n]["owner"]}
    slope_syms = {n: sp.Symbol(f"slope__{n}") for n in own_out}
    loss_syms = {k: sp.Symbol(f"loss__{k}") for k in range(1, network.examples + 1)} if spec.has_data else {}
    definitions = d.definitions() + [(grad_syms[w], e.expression) for w, e in d.gradients.items()]
    definitions += [(out_syms[n], adjoints.carried[n]) for n in out_nodes]
    definitions += [(s, network.example_loss(k)) for k, s in loss_syms.items()]
    definitions += [(slope_syms[n], g.edges[n, v]["derivative"]) for n, v in own_out.items()]
    wanted = (forward_syms + [e.symbol for e in d.deltas.values()] + list(grad_syms.values())
              + list(loss_syms.values()))
    leaves = network.leaf_values(params, float)
    shown = set(wanted)
    lenient = [s for s in [*out_syms.values(), *slope_syms.values()] if s not in shown]
    program = compile_program(definitions, list(leaves), wanted + lenient)
    values = run(program, leaves, wanted)
    forward = {s.name: values[s] for s in forward_syms}
    forward.update({s.name: float(v) for s, v in leaves.items()})
    deltas = {k: values[e.symbol] for k, e in d.deltas.items()}
    gradients = {w: values[grad_syms[w]] for w in d.gradients}
    updated = forward_after = None
    if spec.learning_rate is not None:
        eta = float(spec.learning_rate)
        updated = {p: params[p] - eta * gradients[p] if p in gradients else params[p] for p in params}
        after = run(program, network.leaf_values(updated, float), forward_syms)  # its forward half
        forward_after = {s.name: after[s] for s in forward_syms}
    return Numbers(forward=forward, deltas=deltas, gradients=gradients, updated_params=updated,
                   forward_after=forward_after,
                   adjoints={n: values[s] for n, s in out_syms.items()},
                   slopes={n: values[s] for n, s in slope_syms.items()},
                   example_losses=[values[s] for s in loss_syms.values()] or None)

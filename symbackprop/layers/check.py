"""The layer view's own assertion: every matrix entry equals the scalar derivation.

The layer view and the scalar derivation are written in the same lecture atoms (outs, nets,
parameters, inputs, targets; the layer view assembles the graph's edge labels into
Jacobians). Two such formulas for the same quantity must agree as functions of those atoms
taken as independent numbers, so both are evaluated at one deterministic random point (the
atoms drawn independently, nets of both signs) by one generated program:
``δ_scalar = s·δ⁽ˡ⁾`` for every neuron and example, and for every parameter
``∂J/∂w = Σ over its entries of (∂J/∂W⁽ˡ⁾ − R⁽ˡ⁾) + the regulariser's term`` (once: a
parameter may fill several entries, even a weight and a bias). A mismatch
raises :class:`LayerViewMismatch` — an internal error, never a user mistake.
"""
from __future__ import annotations

import random
from dataclasses import replace

import sympy as sp

from ..errors import SpecError
from ..numeric import evaluate
from .view import LayerView, layer_symbol

TOLERANCE = 1e-9


class LayerViewMismatch(AssertionError):
    """A matrix entry disagrees with the scalar derivation (a bug in symbackprop)."""


def _scalar_definitions(view: LayerView) -> tuple[list[tuple[sp.Symbol, sp.Expr]], dict[str, sp.Symbol]]:
    """The derivation's δ definitions and gradients (the true ones for the lecture variant)."""
    d = view.derivation
    if d.is_variant:
        deltas = [(d.deltas[k].symbol, e) for k, e in d.true_deltas.items()]
        gradients = dict(d.true_gradients)
    else:
        deltas = [(e.symbol, e.expression) for e in d.deltas.values()]
        gradients = {w: e.expression for w, e in d.gradients.items()}
    symbols = {w: sp.Symbol(f"check__scalar__{w}") for w in gradients}
    return deltas + [(symbols[w], e) for w, e in gradients.items()], symbols


def _entry_definitions(view: LayerView) -> tuple[list[tuple[sp.Symbol, sp.Expr]], list[tuple[str, sp.Symbol]],
                                                  dict[str, sp.Symbol]]:
    """``(entry symbol, gradient − its regulariser term)`` for every entry, ``(parameter, entry)``
    pairs, and per parameter the regulariser's own term (the edge ``w → loss``), counted once."""
    d = view.derivation
    g, root = d.network.graph, d.network.root
    definitions, entries, penalties = [], [], {}
    for name, kind, number, r, c in view.entries():
        i = number - 1
        grad = (view.weight_gradients if kind == "W" else view.bias_gradients)[i][r, c]
        reg_matrix = (view.weight_regularisation if kind == "W" else view.bias_regularisation)[i]
        reg = reg_matrix[r, c] if reg_matrix is not None else sp.Integer(0)
        entry = sp.Symbol(f"check__{kind}{number}_{r}_{c}")
        definitions.append((entry, grad - reg))
        entries.append((name, entry))
        if name not in penalties:
            penalties[name] = sp.Symbol(f"check__penalty__{name}")
            definitions.append((penalties[name], g.edges[name, root]["derivative"]
                                if g.has_edge(name, root) else sp.Integer(0)))
    return definitions, entries, penalties


def _point(atoms: list[sp.Symbol], signed: bool) -> dict[sp.Symbol, float]:
    """Distinct values in (0.1, 0.9) — nets, parameters and inputs of either sign when ``signed``."""
    rng = random.Random("symbackprop:layer-view-check")
    values = {}
    for s in atoms:
        value = rng.uniform(0.1, 0.9)
        if signed and not s.name.startswith(("out_", "t_")) and rng.random() < 0.5:
            value = -value
        values[s] = value
    return values


def check_layer_view(view: LayerView, *, tolerance: float = TOLERANCE) -> LayerView:
    """``view`` with ``max_difference`` set; raises :class:`LayerViewMismatch` on any disagreement."""
    d = view.derivation
    scalar, gradient_symbols = _scalar_definitions(view)
    entries_defs, entries, penalties = _entry_definitions(view)
    definitions = scalar + view.definitions() + entries_defs
    defined = {s for s, _ in definitions}
    atoms = sorted({a for _, e in definitions for a in e.free_symbols} - defined, key=str)
    wanted = [s for s, _ in definitions]
    values = None
    for signed in (True, False):  # a custom activation may be undefined for negative nets
        point = _point(atoms, signed)
        try:
            values = {**point, **evaluate(definitions, point, wanted)}
            break
        except SpecError:
            continue
    if values is None:
        raise LayerViewMismatch("the layer view could not be evaluated at a test point")

    worst = 0.0

    def compare(what: str, expected: float, got: float) -> None:
        nonlocal worst
        difference = abs(expected - got) / max(1.0, abs(expected))
        worst = max(worst, difference)
        if difference > tolerance:
            raise LayerViewMismatch(f"layer view: {what} is {got!r} in matrix form but {expected!r} "
                                    "in the scalar derivation")

    scalar_deltas = {str(s): values[s] for s, _ in scalar}
    for ex in view.examples:
        for layer, deltas in zip(view.layers, ex.deltas):
            for n, symbol in zip(layer.units, deltas):
                expected = scalar_deltas.get(str(symbol).replace("layer_delta_", "delta_", 1), 0.0)
                compare(f"δ of '{n}'" + (f" (example {ex.example})" if ex.example else ""),
                        expected, float(view.scale) * values[symbol])
    totals = {name: values[symbol] for name, symbol in penalties.items()}
    for name, entry in entries:
        totals[name] += values[entry]
    for w, symbol in gradient_symbols.items():
        if w in totals:
            compare(f"∂J/∂{w}", values[symbol], totals[w])
        elif w in d.spec.inputs:
            first = view.layers[0]
            column = first.sources.index(w)
            back = sum(values.get(first.weights[r, column], 0.0) * values[layer_symbol(n, None)]
                       for r, n in enumerate(first.units))
            compare(f"∂J/∂{w}", values[symbol], back)
    return replace(view, max_difference=worst)


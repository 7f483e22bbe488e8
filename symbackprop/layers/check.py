"""The layer view's own assertion: every matrix entry equals the scalar derivation.

The layer view and the scalar derivation are written in the same lecture atoms (outs, nets,
parameters, inputs, targets; the layer view assembles the graph's edge labels into
Jacobians). Two such formulas for the same quantity must agree as functions of those atoms
taken as independent numbers, so both are evaluated at one deterministic random point (the
atoms drawn independently, nets of both signs) by one generated program:
``δ_scalar = s·δ⁽ˡ⁾`` for every neuron and example, and for every parameter ``∂J/∂w`` = the
sum of the entries it fills. The scalar side is a derivation of the true gradient with
respect to every parameter (derived again when the spec's ``wrt`` is a subset, or for the
lecture variant). A mismatch raises :class:`LayerViewMismatch` — an internal error, never a
user mistake; formulas undefined at every test point (a custom activation's domain) raise
:class:`~symbackprop.errors.SpecError`.
"""
from __future__ import annotations

import random
from dataclasses import replace

import sympy as sp

from ..derive import Derivation
from ..errors import SpecError
from ..names import suffix
from ..straightline import compile_program, dependency_order, run
from .view import LayerView

TOLERANCE = 1e-7
"""Largest relative difference accepted (float64 evaluation of differently grouped sums)."""
FLOOR = 1e-20
"""Absolute differences below this are float noise around 0."""


class LayerViewMismatch(AssertionError):
    """A matrix entry disagrees with the scalar derivation (a bug in symbackprop)."""


def _points(atoms: list[sp.Symbol], d: Derivation):
    """Test points: random of both signs, random positive, larger positive, then the spec's own values."""
    for low, high, signed in ((0.1, 0.9, True), (0.1, 0.9, False), (1.1, 3.0, False)):
        rng = random.Random(f"symbackprop:layer-view-check:{low}")
        point = {}
        for s in atoms:
            value = rng.uniform(low, high)
            if signed and not s.name.startswith(("out_", "t_")) and rng.random() < 0.5:
                value = -value
            point[s] = value
        yield point
    if d.numbers is not None:
        yield {s: d.numbers.forward.get(s.name, 0.5) for s in atoms}


def checked_definitions(view: LayerView) -> tuple[list[tuple[sp.Symbol, sp.Expr]], dict[str, sp.Symbol],
                                                    dict[str, sp.Symbol]]:
    """What the check evaluates, in dependency order: the scalar δs and gradients (named by
    the returned ``scalar`` symbols), then the layer view's δs and per-parameter totals (and
    ``∂J/∂x``, named by ``matrix``). Only the two lists of δs are sorted: the gradients use
    δs alone, so the whole list is what sorting all of it gives, at the cost of the δs."""
    reference = view.derivation.reference
    scalar_deltas = dependency_order([(e.symbol, e.expression) for e in reference.deltas.values()])
    scalar = {w: sp.Symbol(f"check__scalar__{w}") for w in reference.gradients}
    matrix = {w: sp.Symbol(f"check__matrix__{w}") for w in reference.gradients}
    totals = view.parameter_gradients()
    definitions = (scalar_deltas + [(scalar[w], e.expression) for w, e in reference.gradients.items()]
                   + dependency_order(view.definitions()) + [(matrix[w], totals[w]) for w in totals if w in matrix])
    if view.input_gradient is not None:
        definitions += [(matrix[x], view.input_gradient[i]) for i, x in enumerate(view.layers[0].sources)
                        if x in matrix]
    return definitions, scalar, matrix


def check_layer_view(view: LayerView, *, tolerance: float = TOLERANCE) -> LayerView:
    """``view`` with ``max_difference`` set; raises :class:`LayerViewMismatch` on any disagreement."""
    definitions, scalar, matrix = checked_definitions(view)
    defined = {s for s, _ in definitions}
    atoms = sorted({a for _, e in definitions for a in e.free_symbols} - defined, key=str)
    wanted = [s for s, _ in definitions]
    program = compile_program(definitions, atoms, wanted)  # once, run at each test point
    values = None
    for point in _points(atoms, view.derivation):
        try:
            values = run(program, point, wanted)
            break
        except SpecError:
            continue
    if values is None:
        raise SpecError("the matrix form cannot be checked: its formulas are undefined at every test point "
                        "(a custom activation or loss outside its domain)", key="layers")
    worst = 0.0

    def compare(what: str, expected: float, got: float) -> None:
        nonlocal worst
        difference = abs(expected - got)
        scale = max(abs(expected), abs(got))
        if difference > FLOOR:
            worst = max(worst, difference / scale)
        if difference > tolerance * scale + FLOOR:
            raise LayerViewMismatch(f"layer view: {what} is {got!r} in matrix form but {expected!r} "
                                    "in the scalar derivation")

    by_name = {str(s): v for s, v in values.items()}
    for ex in view.examples:
        for layer, deltas in zip(view.layers, ex.deltas):
            for n, symbol in zip(layer.units, deltas):
                expected = by_name.get(f"delta_{n}{suffix(ex.example)}", 0.0)
                compare(f"δ of '{n}'" + (f" (example {ex.example})" if ex.example else ""),
                        expected, float(view.scale) * values[symbol])
    for w in scalar:
        if matrix[w] in values:
            compare(f"∂J/∂{w}", values[scalar[w]], values[matrix[w]])
    return replace(view, max_difference=worst)

"""What the generated code is built from: the regularisation term, stable definitions and the layered structure (matrix form)."""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..derive import Derivation
from ..graph import Network
from ..layers.maps import Maps, NotLayered, find_maps
from ..straightline import stable_forms


def regularisation_term(spec) -> sp.Expr:
    if spec.l2 is None:
        return sp.Integer(0)
    names = list(spec.weights) + (list(spec.biases) if spec.l2_include_biases else [])
    return spec.l2 * sp.Add(*[sp.Symbol(p) ** 2 for p in names])


@dataclass
class _Stable:
    """Stable rewrites of one per-example derivation."""

    definitions: list[tuple[sp.Symbol, sp.Expr]]   # forward (incl. loss), softmax max/sum symbols
    deltas: list[tuple[sp.Symbol, sp.Expr]]
    gradients: dict[str, sp.Expr]
    softmax: tuple[sp.Symbol, sp.Symbol] | None      # (max, shifted sum) of the one softmax group


def stable_program(core: Derivation) -> _Stable:
    definitions, fix = stable_forms(core.network.definitions())
    names = {str(s): s for s, _ in definitions}
    softmax = (names["_max0"], names["_sum0"]) if "_max0" in names and "_max1" not in names else None
    deltas = [(d.symbol, fix(d.expression)) for d in core.deltas.values()]
    gradients = {w: fix(e.expression) for w, e in core.gradients.items()}
    return _Stable(definitions, deltas, gradients, softmax)


@dataclass(frozen=True)
class Layer:
    """One layer of a layered network: its neurons (rows) and parameter names."""

    neurons: tuple[str, ...]
    weights: tuple[tuple[str, ...], ...]   # weights[j][i]: into neuron j from source i
    biases: tuple[str, ...] | None
    maps: tuple[tuple[str, ...], ...] = ()  # each neuron's element-wise map nodes (none: no maps)


def layered_structure(spec, network: Network | None = None) -> list[Layer] | None:
    """The layers of a strictly layered network, or ``None`` for a general graph.

    Layered: every neuron's sources are exactly the previous layer (the inputs first), the
    last layer is the outputs, one activation per layer, every weight and bias used once.
    Expression nodes are allowed when they are element-wise maps after a layer
    (:mod:`symbackprop.layers.maps`; needs the ``network``); inputs read only by maps
    (masks) are not part of the first layer's sources.
    """
    if spec.objective is not None or not spec.neurons or not spec.inputs or spec.batch_norms:
        return None
    if set(spec.wrt) - set(spec.parameters):
        return None
    maps = Maps({})
    if spec.nodes:
        if network is None:
            return None
        try:
            maps = find_maps(network)
        except NotLayered:
            return None
    remaining = dict(spec.neurons)
    previous: tuple[str, ...] = tuple(i for i in spec.inputs if i not in maps.side_inputs)
    layers: list[Layer] = []
    used: set[str] = set()
    while remaining:
        members = [n for n, nr in remaining.items()
                   if len(nr.sources) == len(nr.weighted_sources) == len(previous)  # no fixed weights
                   and {s for s, _ in nr.sources} == set(previous)]
        if not members:
            return None
        if len(members) == len(remaining):  # the output layer: in the order of the targets
            if {maps.end(n) for n in members} != set(spec.outputs):
                return None
            members = [maps.owner.get(o, o) for o in spec.outputs]
        kinds = {(remaining[n].activation, remaining[n].alpha) for n in members}
        has_bias = {remaining[n].bias is not None for n in members}
        if len(kinds) != 1 or len(has_bias) != 1:
            return None
        weights = []
        for n in members:
            source_param = dict(remaining[n].sources)
            weights.append(tuple(source_param[s] for s in previous))
        biases = tuple(remaining[n].bias for n in members) if has_bias == {True} else None
        params = [p for row in weights for p in row] + list(biases or ())
        if len(set(params)) != len(params) or used & set(params):
            return None
        used |= set(params)
        chains = tuple(maps.chains.get(n, ()) for n in members)
        layers.append(Layer(tuple(members), tuple(weights), biases, chains if any(chains) else ()))
        for n in members:
            del remaining[n]
        previous = tuple(maps.end(n) for n in members)
    if "softmax" in {spec.neurons[n].activation for layer in layers[:-1] for n in layer.neurons}:
        return None
    return layers

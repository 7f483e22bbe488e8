r"""The layer view: a layered network's derivation in vector and matrix notation.

Index convention: ``W⁽ˡ⁾[j, i]`` is the weight into neuron ``j`` of layer ``l`` from unit
``i`` of layer ``l − 1`` (row = target, column = source), ``0`` where there is no edge;
``b⁽ˡ⁾[j]`` the bias of neuron ``j`` (``0`` without one). Layer 0 is the inputs ``x`` and the
last layer the outputs ``z``. For each example ``p`` (lecture notation, ``h⁽⁰⁾ = x``)::

    a⁽ˡ⁾ = W⁽ˡ⁾ h⁽ˡ⁻¹⁾ + b⁽ˡ⁾,     h⁽ˡ⁾ = f(a⁽ˡ⁾),     z = h⁽ᴸ⁾
    δ⁽ᴸ⁾ = (∂z/∂a⁽ᴸ⁾)ᵀ (∂E/∂z)ᵀ                         (∂E⁽ᵖ⁾/∂a⁽ᴸ⁾, per example)
    δ⁽ˡ⁾ = (∂h⁽ˡ⁾/∂a⁽ˡ⁾)ᵀ W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾ = (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾) ⊙ f′(a⁽ˡ⁾)
    ∂J/∂W⁽ˡ⁾ = (s Σ_p δ⁽ˡ,ᵖ⁾ h⁽ˡ⁻¹,ᵖ⁾ᵀ) ⊙ M⁽ˡ⁾ + R⁽ˡ⁾,     ∂J/∂b⁽ˡ⁾ = s Σ_p δ⁽ˡ,ᵖ⁾ + R_b⁽ˡ⁾

with ``J = s Σ_p E⁽ᵖ⁾ (+ λ Σ w²)``, ``s = 1/N`` for ``reduction: mean`` and ``1`` otherwise,
``M⁽ˡ⁾`` 1 where there is an edge and 0 elsewhere, and ``R⁽ˡ⁾`` the regulariser's ``2λw`` in
the first entry each parameter fills (``2λW⁽ˡ⁾`` when no parameter is shared), so a parameter's
gradient is always the sum of its entries. The Jacobians are assembled from the graph's
own edge labels (the activation Jacobian is diagonal for element-wise activations, full for
softmax), so the layer view is the scalar derivation regrouped; :func:`symbackprop.layers.layer_view` asserts
that every entry equals the scalar gradient (see :mod:`symbackprop.layers.check`).

>>> from symbackprop import derive, spec_from_mapping
>>> d = derive(spec_from_mapping({"name": "t", "layers": [2, 1], "activation": "identity",
...     "loss": "half_sse"}))
>>> view = build_layer_view(d)
>>> view.layers[0].weights
Matrix([[w1_1_1, w1_1_2]])
>>> view.weight_gradients[0]
Matrix([[layer__delta_y1*x1, layer__delta_y1*x2]])
>>> view.examples[0].delta_definitions[0]
Matrix([[out_y1 - t_y1]])
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Iterator

import sympy as sp

from ..derive import Derivation
from ..derive.backprop import tidy
from ..graph import per_example_loss
from ..names import suffix
from .maps import Maps, NotLayered, find_maps, map_derivative

Matrix = sp.ImmutableMatrix


@dataclass(frozen=True)
class Layer:
    """Layer ``number`` (1 = first layer of neurons): its units, sources and parameters."""

    number: int
    units: tuple[str, ...]            # neuron names: the rows
    sources: tuple[str, ...]          # inputs or neurons of the layer before: the columns
    weights: Matrix                   # W⁽ˡ⁾: parameter symbols, 0 where there is no edge
    biases: Matrix | None             # b⁽ˡ⁾ (column), None when no unit has a bias
    activations: tuple[str, ...]      # each unit's activation (as in the spec)
    maps: tuple[tuple[str, ...], ...] = ()  # each unit's element-wise map nodes, first applied first

    @property
    def outputs(self) -> tuple[str, ...]:
        """What the next layer (or the loss) reads of each unit: its last map node, or the neuron."""
        if not self.maps:
            return self.units
        return tuple(chain[-1] if chain else unit for unit, chain in zip(self.units, self.maps))

    @property
    def mapped(self) -> bool:
        """Whether an element-wise map follows the activation: ``h⁽ˡ⁾ = φ(f(a⁽ˡ⁾))``."""
        return any(self.maps)

    @property
    def softmax(self) -> bool:
        """A softmax layer has a full activation Jacobian."""
        return "softmax" in self.activations

    @property
    def activation(self) -> str:
        """The layer's activation, or ``"mixed"`` when its units differ."""
        return self.activations[0] if len(set(self.activations)) == 1 else "mixed"


@dataclass(frozen=True)
class ExampleTerms:
    """One example's vectors and Jacobians (``example`` is None without ``data``)."""

    example: int | None
    inputs: Matrix                          # x
    targets: Matrix                         # t
    nets: tuple[Matrix, ...]                # a⁽ˡ⁾ (symbols), one per layer
    outs: tuple[Matrix, ...]                # h⁽ˡ⁾ (symbols; the maps' values where a layer has them); the last is z
    loss_gradient: Matrix                   # ∂E⁽ᵖ⁾/∂z (row), lecture form
    activation_jacobians: tuple[Matrix, ...]  # ∂h⁽ˡ⁾/∂a⁽ˡ⁾, lecture form
    deltas: tuple[Matrix, ...]              # δ⁽ˡ⁾ (symbols)
    delta_definitions: tuple[Matrix, ...]   # δ⁽ˡ⁾ in δ⁽ˡ⁺¹⁾, W, f′ (or ∂E/∂z for the last)
    neuron_outs: tuple[Matrix, ...] = ()    # o⁽ˡ⁾ = f(a⁽ˡ⁾) (symbols), before the layer's map
    backs: tuple[Matrix | None, ...] = ()   # W⁽ˡ⁺¹⁾ᵀδ⁽ˡ⁺¹⁾ in δ symbols (None for the last layer)

    def layer_input(self, number: int) -> Matrix:
        """``h⁽ˡ⁻¹⁾`` of layer ``number`` (``x`` for layer 1)."""
        return self.inputs if number == 1 else self.outs[number - 2]


@dataclass(frozen=True)
class LayerView:
    """A layered derivation in matrix form; built by :func:`layer_view`."""

    derivation: Derivation
    layers: tuple[Layer, ...]
    examples: tuple[ExampleTerms, ...]
    scale: sp.Rational                                 # s: 1/N for a mean, else 1
    weight_regularisation: tuple[Matrix | None, ...]   # R⁽ˡ⁾ (None without L2)
    bias_regularisation: tuple[Matrix | None, ...]
    weight_gradients: tuple[Matrix, ...]               # ∂J/∂W⁽ˡ⁾ in δ and h symbols
    bias_gradients: tuple[Matrix | None, ...]          # ∂J/∂b⁽ˡ⁾
    input_gradient: Matrix | None = None               # ∂J/∂x = W⁽¹⁾ᵀδ⁽¹⁾ (one example, no data)
    max_difference: float = 0.0                        # largest relative difference found by the check

    def definitions(self) -> list[tuple[sp.Symbol, sp.Expr]]:
        """Every δ⁽ˡ⁾ entry's definition, example by example, layer by layer from the first
        (so not in dependency order: δ⁽ˡ⁾ uses δ⁽ˡ⁺¹⁾)."""
        return [(s, e) for ex in self.examples for deltas, defs in zip(ex.deltas, ex.delta_definitions)
                for s, e in zip(deltas, defs)]

    def entries(self) -> Iterator[tuple[str, str, int, int, int]]:
        """``(parameter, "W" or "b", layer, row, column)`` for every matrix entry holding a parameter."""
        for layer in self.layers:
            for (r, c), value in _items(layer.weights):
                if value.is_Symbol:
                    yield str(value), "W", layer.number, r, c
            if layer.biases is not None:
                for (r, c), value in _items(layer.biases):
                    if value.is_Symbol:
                        yield str(value), "b", layer.number, r, c

    def parameter_gradients(self) -> dict[str, sp.Expr]:
        """``∂J/∂w`` per parameter: the sum of the entries it fills (the L2 term sits in its first)."""
        totals: dict[str, list[sp.Expr]] = {}
        for name, kind, number, r, c in self.entries():
            matrix = (self.weight_gradients if kind == "W" else self.bias_gradients)[number - 1]
            totals.setdefault(name, []).append(matrix[r, c])
        return {name: terms[0] if len(terms) == 1 else sp.Add(*terms) for name, terms in totals.items()}

    def shared(self) -> list[str]:
        """Parameters that fill more than one matrix entry (their gradient sums those entries)."""
        seen: dict[str, int] = {}
        for name, *_ in self.entries():
            seen[name] = seen.get(name, 0) + 1
        return [name for name, count in seen.items() if count > 1]

    def chain(self, number: int, example: int = 0) -> list[tuple[str, Matrix]]:
        """The Jacobian factors of ``∂E/∂a⁽ˡ⁾`` for layer ``number``, from the loss inwards:
        ``∂E/∂z, ∂z/∂a⁽ᴸ⁾, ∂a⁽ᴸ⁾/∂h⁽ᴸ⁻¹⁾ = W⁽ᴸ⁾, ∂h⁽ᴸ⁻¹⁾/∂a⁽ᴸ⁻¹⁾, …`` (their product is ``δ⁽ˡ⁾ᵀ``).
        Each is ``(name, matrix)`` with names ``dE/dz``, ``dh{l}/da{l}``, ``da{l}/dh{l-1}``."""
        ex = self.examples[example]
        top = len(self.layers)
        factors = [("dE/dz", ex.loss_gradient), (f"dh{top}/da{top}", ex.activation_jacobians[top - 1])]
        for l in range(top - 1, number - 1, -1):
            factors.append((f"da{l + 1}/dh{l}", self.layers[l].weights))
            factors.append((f"dh{l}/da{l}", ex.activation_jacobians[l - 1]))
        return factors


def _items(m: Matrix) -> Iterator[tuple[tuple[int, int], sp.Expr]]:
    for r in range(m.rows):
        for c in range(m.cols):
            yield (r, c), m[r, c]


def layer_symbol(neuron: str, example: int | None) -> sp.Symbol:
    """The per-example δ of a neuron in the layer view (``∂E⁽ᵖ⁾/∂a``, no ``1/N``):
    ``layer__delta_<neuron>`` — a user name never contains ``__``, so it cannot clash."""
    return sp.Symbol(f"layer__delta_{neuron}{suffix(example)}")


def find_layers(d: Derivation) -> list[tuple[str, ...]]:
    """The neurons of each layer, in the spec's order; :class:`NotLayered` says why when they do not form layers."""
    return _layers_and_maps(d)[0]


def _layers_and_maps(d: Derivation) -> tuple[list[tuple[str, ...]], Maps]:
    """:func:`find_layers` and the element-wise maps it found on the way."""
    spec = d.spec
    if d.network.graph.nodes[d.network.root]["kind"] != "loss":
        raise NotLayered("the layer view needs a loss (this spec differentiates an objective)", key="objective")
    if spec.batch_norms:
        first = next(iter(spec.batch_norms))
        raise NotLayered(f"the layer view needs neurons only; '{first}' is batch statistics (batch_norm)",
                         key=f"batch_norm.{first}")
    if spec.target_outputs != spec.outputs:
        raise NotLayered("the layer view needs a target per output (this loss uses the inputs instead)",
                         key="loss")
    maps = find_maps(d.network)  # expression nodes: element-wise maps, or the reason there is no matrix form
    g = d.network.graph
    depth = {i: 0 for i in spec.inputs}
    for name in (g.nodes[n]["owner"] for n in d.network.order  # neurons, sources first
                 if g.nodes[n]["kind"] == "net" and g.nodes[n]["example"] in (None, 1)):
        sources = spec.neurons[name].sources
        depth[name] = 1 + max((depth[maps.owner.get(s, s)] for s, _ in sources), default=0)
        for src, _ in sources:
            if depth[maps.owner.get(src, src)] != depth[name] - 1:
                raise NotLayered(f"'{src}' feeds '{name}' across layers (a skip connection): "
                                 "no matrix form", key=f"neurons.{name}.from.{src}")
    top = max(depth[n] for n in spec.neurons)
    layers = [tuple(n for n in spec.neurons if depth[n] == l) for l in range(1, top + 1)]
    for n in spec.neurons:
        if (depth[n] == top) != (maps.end(n) in spec.outputs):
            end = maps.end(n)
            where = "is an output but not in the last layer" if end in spec.outputs else \
                "is in the last layer but not an output"
            named = f"'{end}' (the map of '{n}')" if end != n else f"'{n}'"
            raise NotLayered(f"{named} {where}: no matrix form",
                             key=f"nodes.{end}" if end != n else f"neurons.{n}")
    if set(spec.outputs) != {maps.end(n) for n in layers[-1]}:
        raise NotLayered("every output must be a neuron of the last layer (or its map)", key="outputs")
    layers[-1] = tuple(maps.owner.get(o, o) for o in spec.outputs)
    return layers, maps


def _build_layers(d: Derivation, units: list[tuple[str, ...]], maps: Maps) -> list[Layer]:
    spec, g = d.spec, d.network.graph
    layers = []
    for number, rows in enumerate(units, start=1):
        columns = (tuple(i for i in spec.inputs if i not in maps.side_inputs) if number == 1
                   else tuple(maps.end(u) for u in units[number - 2]))
        position = {c: k for k, c in enumerate(columns)}
        weights = sp.zeros(len(rows), len(columns))
        for r, n in enumerate(rows):
            for src, p in spec.neurons[n].sources:  # a fixed weight stays its number
                weights[r, position[src]] = g.nodes[p]["symbol"] if isinstance(p, str) else p
        has_bias = any(spec.neurons[n].bias for n in rows)
        biases = Matrix([g.nodes[spec.neurons[n].bias]["symbol"] if spec.neurons[n].bias else 0
                         for n in rows]) if has_bias else None
        chains = tuple(maps.chains.get(n, ()) for n in rows)
        layers.append(Layer(number=number, units=rows, sources=columns, weights=Matrix(weights),
                            biases=biases, activations=tuple(spec.neurons[n].activation for n in rows),
                            maps=chains if any(chains) else ()))
    return layers


def _example_terms(d: Derivation, layers: list[Layer], example: int | None) -> ExampleTerms:
    spec, g = d.spec, d.network.graph
    sfx = suffix(example)

    def column(names) -> Matrix:
        return Matrix([g.nodes[n + sfx]["symbol"] for n in names])

    nets = [column([f"net_{n}" for n in layer.units]) for layer in layers]
    neuron_outs = [column([f"out_{n}" for n in layer.units]) for layer in layers]
    outs = [column([u if u != n else f"out_{n}" for n, u in zip(layer.units, layer.outputs)])
            for layer in layers]
    jacobians = []
    for layer in layers:
        jac = sp.zeros(len(layer.units), len(layer.units))
        for i, n_i in enumerate(layer.units):
            mapped = map_derivative(g, n_i, layer.maps[i] if layer.maps else (), sfx)
            for j, n_j in enumerate(layer.units):
                edge = g.get_edge_data(f"net_{n_j}{sfx}", f"out_{n_i}{sfx}")
                if edge is not None:
                    jac[i, j] = edge["derivative"] * mapped
        jacobians.append(Matrix(jac))
    per_example = per_example_loss(spec)
    rename = {s: sp.Symbol(str(s) + sfx) for s in per_example.free_symbols}
    loss = per_example.xreplace(rename)
    z = outs[-1]
    loss_gradient = Matrix([[sp.diff(loss, z[k]) for k in range(z.rows)]])
    deltas = [Matrix([layer_symbol(n, example) for n in layer.units]) for layer in layers]
    definitions: list[Matrix] = [None] * len(layers)  # type: ignore[list-item]
    backs: list[Matrix | None] = [None] * len(layers)
    last = _hadamard_or_product(jacobians[-1], loss_gradient.T)
    definitions[-1] = Matrix([tidy(e, [z[k]]) for k, e in enumerate(last)])  # lecture form: z − t for σ + BCE
    for l in range(len(layers) - 2, -1, -1):
        backs[l] = _transposed_times(layers[l + 1].weights, deltas[l + 1])
        definitions[l] = _hadamard_or_product(jacobians[l], backs[l])
    return ExampleTerms(example=example, inputs=column(layers[0].sources),
                        targets=column([f"t_{o}" for o in spec.outputs]),
                        nets=tuple(nets), outs=tuple(outs), loss_gradient=loss_gradient,
                        activation_jacobians=tuple(jacobians), deltas=tuple(deltas),
                        delta_definitions=tuple(definitions), neuron_outs=tuple(neuron_outs),
                        backs=tuple(backs))


def _hadamard_or_product(jacobian: Matrix, vector: Matrix) -> Matrix:
    """``Jᵀ v``; for a diagonal ``J`` written as ``v ⊙ diag(J)`` (each entry one product)."""
    if jacobian.is_diagonal():
        return Matrix([vector[i] * jacobian[i, i] for i in range(vector.rows)])
    return Matrix(jacobian.T * vector)


def _penalties(d: Derivation, layers: list[Layer]) -> tuple[list[Matrix | None], list[Matrix | None]]:
    """The L2 term ``2λw`` (the graph's edge ``w → loss``) in the first entry each parameter fills,
    so that a parameter's gradient is always the sum of its entries; None where a matrix has none."""
    g, root = d.network.graph, d.network.root
    seen: set[str] = set()
    weights: list[Matrix | None] = []
    biases: list[Matrix | None] = []
    for layer in layers:
        for matrix, out in ((layer.weights, weights), (layer.biases, biases)):
            penalty = sp.zeros(*matrix.shape) if matrix is not None else None
            for (r, c), value in (_items(matrix) if matrix is not None else ()):
                name = str(value)
                if value.is_Symbol and name not in seen:
                    seen.add(name)
                    if g.has_edge(name, root):
                        penalty[r, c] = g.edges[name, root]["derivative"]
            out.append(Matrix(penalty) if penalty is not None and any(penalty) else None)
    return weights, biases


def build_layer_view(d: Derivation) -> LayerView:
    """The matrix form of ``d``, unchecked (:func:`symbackprop.layers.layer_view` checks it);
    raises :class:`NotLayered` when the network has none."""
    if d.spec.has_data:
        examples: list[int | None] = list(range(1, d.network.examples + 1))
    else:
        examples = [None]
    layers = _build_layers(d, *_layers_and_maps(d))
    terms = tuple(_example_terms(d, layers, ex) for ex in examples)
    scale = sp.Rational(1, len(examples)) if d.spec.reduction == "mean" else sp.Integer(1)
    weight_reg, bias_reg = (tuple(m) for m in _penalties(d, layers))
    weight_grads, bias_grads = [], []
    for i, layer in enumerate(layers):
        data = _total(_outer(ex.deltas[i], ex.layer_input(layer.number)) for ex in terms)
        weight = _scaled(scale, _masked(data, layer.weights))
        weight_grads.append(Matrix(weight + weight_reg[i]) if weight_reg[i] is not None else Matrix(weight))
        if layer.biases is None:
            bias_grads.append(None)
            continue
        bias = _scaled(scale, _masked(_total(ex.deltas[i] for ex in terms), layer.biases))
        bias_grads.append(Matrix(bias + bias_reg[i]) if bias_reg[i] is not None else Matrix(bias))
    view = LayerView(derivation=d, layers=tuple(layers), examples=terms, scale=scale,
                     weight_regularisation=weight_reg, bias_regularisation=bias_reg,
                     weight_gradients=tuple(weight_grads), bias_gradients=tuple(bias_grads),
                     input_gradient=None if d.spec.has_data else _transposed_times(layers[0].weights,
                                                                                   terms[0].deltas[0]))
    return view


_COMPARE = functools.cmp_to_key(sp.Basic.compare)


def _product(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """``a·b`` as ``Mul`` builds it; for two different plain symbols directly: their arguments
    in ``Basic.compare`` order, what ``Mul.flatten`` returns for them (a third of the time)."""
    if type(a) is sp.Symbol and type(b) is sp.Symbol and a != b:
        return sp.Mul._from_args(sorted((a, b), key=_COMPARE))
    return a * b


def _outer(column: Matrix, row: Matrix) -> Matrix:
    """``column · rowᵀ`` of two column vectors, entry by entry as the matrix product builds it."""
    return Matrix([[_product(a, b) for b in row] for a in column])


def _transposed_times(weights: Matrix, vector: Matrix) -> Matrix:
    """``weightsᵀ · vector``, entry by entry as the matrix product builds it (``Add`` of the
    products, the zeros of missing edges left out as ``Add`` leaves them out)."""
    return Matrix([sp.Add(*[_product(weights[k, j], vector[k]) for k in range(weights.rows) if weights[k, j] != 0])
                   for j in range(weights.cols)])


def _total(matrices) -> Matrix:
    """The sum of equally shaped matrices, one ``Add`` per entry (linear in their number; a lone
    matrix is its own sum, as ``Add`` of one argument is that argument)."""
    items = list(matrices)
    if len(items) == 1:
        return items[0]
    return Matrix(items[0].rows, items[0].cols, lambda r, c: sp.Add(*[m[r, c] for m in items]))


def _masked(m: Matrix, parameters: Matrix) -> Matrix:
    """``m ⊙ M``, ``M`` 1 where ``parameters`` holds a parameter and 0 where there is no edge
    (no gradient there): ``m`` itself when every entry holds one (``x·1`` is ``x``)."""
    mask = Matrix(parameters.rows, parameters.cols, lambda r, c: 0 if parameters[r, c] == 0 else 1)
    return m if all(v == 1 for v in mask) else m.multiply_elementwise(mask)


def _scaled(scale: sp.Expr, m: Matrix) -> Matrix:
    """``scale · m``: ``m`` itself for a sum (``1·x`` is ``x``)."""
    return m if scale == 1 else scale * m

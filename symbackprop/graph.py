"""Spec → one ``networkx.DiGraph`` of scalar quantities with labelled edges.

Each node is one scalar with a SymPy symbol named like the lectures name it: an input
``A``, a parameter ``w_AT``, ``net_T`` and ``out_T`` for a neuron, an expression node
``S``, a target ``t_F`` and the loss ``E``. Computed nodes carry their ``definition`` in
their predecessors' symbols; each edge ``u → v`` carries ``derivative = ∂v/∂u`` in lecture
form. With ``data``, every per-example quantity is copied per example (suffix ``__n``) and
the parameters are shared.

>>> from symbackprop.spec import spec_from_mapping
>>> net = build_network(spec_from_mapping({"name": "t", "inputs": ["x"],
...     "neurons": {"o": {"from": {"x": "w"}, "activation": "sigmoid"}},
...     "outputs": ["o"], "loss": "half_sse"}))
>>> net.graph.edges["net_o", "out_o"].get("derivative")
out_o*(1 - out_o)
>>> net.graph.nodes["net_o"].get("definition")
w*x
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import cmp_to_key
from typing import Mapping

import networkx as nx
import sympy as sp

from .activations import (ACTIVATIONS, DEFAULT_LEAKY_ALPHA, GROUP_ACTIVATIONS, activation_from_text,
                          softmax_derivative, softmax_outputs)
from .errors import SpecError
from .expressions import ExpressionError, parse_expression
from .losses import LOSSES
from .names import suffix
from .suggest import did_you_mean
from .spec import Spec

LOSS_SYMBOL_CHOICES = ("E", "J", "E_total")


class NodeKind(str, Enum):
    """What a node of the graph is. A ``str`` enum, so ``kind == "net"`` holds as well.

    >>> NodeKind("net") is NodeKind.NET, NodeKind.NET == "net", f"{NodeKind.OUT}"
    (True, True, 'out')
    """

    INPUT = "input"
    PARAM = "param"
    NET = "net"
    OUT = "out"
    NODE = "node"        # a general expression node
    TARGET = "target"
    LOSS = "loss"

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:  # prints as its plain string (generated code, JSON, reports)
        return repr(self.value)

    __format__ = str.__format__

    @property
    def is_leaf(self) -> bool:
        """Inputs, parameters and targets: nodes with no definition."""
        return self in (NodeKind.INPUT, NodeKind.PARAM, NodeKind.TARGET)

    @property
    def has_delta(self) -> bool:
        """Nets and expression nodes get a cached δ symbol of their own."""
        return self in (NodeKind.NET, NodeKind.NODE)
_CANONICAL = cmp_to_key(sp.Basic.compare)


def product(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """``a·b``; two distinct plain symbols skip Mul's general flattening (≈10× faster, same Mul).

    >>> product(sp.Symbol("x"), sp.Symbol("w")) == sp.Symbol("x") * sp.Symbol("w")
    True
    """
    if a.is_Symbol and b.is_Symbol and a != b and a.is_commutative and b.is_commutative:
        return sp.Mul._from_args(sorted((a, b), key=_CANONICAL), is_commutative=True)
    return a * b


@dataclass(frozen=True)
class Network:
    """The graph and what the derivation needs to know about it."""

    spec: Spec
    graph: nx.DiGraph
    root: str                      # node id of the loss (or objective)
    wrt: tuple[str, ...]           # node ids to differentiate with respect to
    examples: int                  # number of per-example copies
    order: tuple[str, ...]         # a topological order of all nodes

    def symbol(self, node: str) -> sp.Symbol:
        """The SymPy symbol of a node."""
        return self.graph.nodes[node]["symbol"]

    def definitions(self) -> list[tuple[sp.Symbol, sp.Expr]]:
        """Forward definitions ``symbol = expression`` in topological order."""
        g = self.graph
        return [(g.nodes[n]["symbol"], g.nodes[n]["definition"]) for n in self.order
                if g.nodes[n]["definition"] is not None]

    def example_loss(self, example: int | None) -> sp.Expr:
        """The loss of one example (``None`` without data) in that example's symbols, before any
        regularisation or ``1/N``; with an ``objective``, that node's (or neuron's out) symbol."""
        spec, sfx = self.spec, suffix(example)
        if spec.objective is not None:
            name = spec.objective if spec.objective in spec.nodes else f"out_{spec.objective}"
            return sp.Symbol(name + sfx)
        template = per_example_loss(spec)
        return template.xreplace({s: sp.Symbol(s.name + sfx) for s in template.free_symbols})

    def leaves(self) -> list[str]:
        """Node ids with no definition (inputs, parameters, targets), in order."""
        return [n for n in self.order if self.graph.nodes[n]["definition"] is None]

    def leaf_values(self, params: Mapping[str, object], convert=lambda v: v) -> dict[sp.Symbol, object]:
        """Every leaf symbol's value: ``params`` by name, inputs and targets from the spec's examples.

        ``convert`` maps the spec's exact Rationals (e.g. ``float``); parameters are taken as given.
        """
        values = {}
        for node in self.leaves():
            attrs = self.graph.nodes[node]
            example = self.spec.examples[(attrs["example"] or 1) - 1]
            if attrs["kind"] == "param":
                values[attrs["symbol"]] = params[node]
            elif attrs["kind"] == "input":
                values[attrs["symbol"]] = convert(example.inputs[attrs["label"]])
            elif attrs["kind"] == "target":
                values[attrs["symbol"]] = convert(example.targets[attrs["owner"]])
        return values


def _template_symbols(spec: Spec) -> dict[str, sp.Symbol]:
    """What each user name means inside expressions (a neuron's name means its ``out``)."""
    names: dict[str, sp.Symbol] = {}
    for n in spec.inputs:
        names[n] = sp.Symbol(n)
    for p in spec.parameters:
        names[p] = sp.Symbol(p)
    for n in spec.neurons:
        names[n] = sp.Symbol(f"out_{n}")
    for n in spec.nodes:
        names[n] = sp.Symbol(n)
    for n in spec.batch_norms:
        names[n] = sp.Symbol(n)
    return names


def _entity_order(spec: Spec, node_exprs: Mapping[str, sp.Expr], names) -> list[str]:
    """Neurons and nodes in dependency order; a clear error for unknown sources and cycles."""
    deps = nx.DiGraph()
    computed = list(spec.neurons) + list(spec.nodes) + list(spec.batch_norms)
    deps.add_nodes_from(computed)
    by_symbol = {names[n]: n for n in computed}
    for n, norm in spec.batch_norms.items():
        if norm.source in by_symbol.values():
            deps.add_edge(norm.source, n)
    for n, neuron in spec.neurons.items():
        for src, _ in neuron.sources:
            if src in spec.neurons or src in spec.nodes or src in spec.batch_norms:
                deps.add_edge(src, n)
            elif src not in spec.inputs:
                raise SpecError(f"unknown source '{src}' (not an input, neuron or node)",
                                key=f"neurons.{n}.from.{src}")
    for n, expr in node_exprs.items():
        for s in sorted(expr.free_symbols, key=str):
            if s in by_symbol:
                deps.add_edge(by_symbol[s], n)
    try:
        return list(nx.topological_sort(deps))
    except nx.NetworkXUnfeasible:
        cycle = nx.find_cycle(deps)
    path = [u for u, _ in cycle] + [cycle[0][0]]
    first = path[0]
    section = "neurons" if first in spec.neurons else "nodes"
    if len(cycle) == 1:
        raise SpecError(f"'{first}' feeds itself (a self-loop)", key=f"{section}.{first}")
    raise SpecError("the network has a cycle: " + " → ".join(path), key=f"{section}.{first}")


def _loss_symbol(spec: Spec) -> str:
    taken = set(spec.inputs) | set(spec.parameters) | set(spec.neurons) | set(spec.nodes)
    chosen = spec.symbols.get("loss")
    if chosen is not None:
        if chosen in taken or chosen in ("t", "delta", "eta") or chosen.startswith(("out_", "net_", "t_", "delta_")):
            raise SpecError(f"'{chosen}' is already a name of the network (or one symbackprop generates)",
                            key="symbols.loss")
        return chosen
    candidates = list(LOSS_SYMBOL_CHOICES) + [f"E{i}" for i in range(1, len(taken) + 2)]
    return next(n for n in candidates if n not in taken)


def _parse(text: str, names, where: str) -> sp.Expr:
    try:
        return parse_expression(text, names, where=where)
    except ExpressionError as exc:
        raise SpecError(str(exc).removeprefix(f"{where}: "), key=where) from None


def per_example_loss(spec: Spec) -> sp.Expr:
    """The loss of one example in template symbols (``out_o``, ``t_o``)."""
    outs = [sp.Symbol(f"out_{o}") if o in spec.neurons else sp.Symbol(o) for o in spec.outputs]
    targets = [sp.Symbol(f"t_{o}") for o in spec.outputs]
    if spec.loss in LOSSES:
        return LOSSES[spec.loss].build(outs, targets)
    names = {i: sp.Symbol(i) for i in spec.inputs}  # a reconstruction loss may use the inputs
    names.update({f"out_{o}": s for o, s in zip(spec.outputs, outs)})
    names.update({f"t_{o}": t for o, t in zip(spec.outputs, targets)})
    if spec.loss and spec.loss.isidentifier() and spec.loss not in names:
        raise SpecError(f"unknown loss '{spec.loss}'{did_you_mean(spec.loss, list(LOSSES) + list(names))} "
                        f"(choose from {', '.join(LOSSES)} or write an expression in out_<output>, "
                        "t_<output> and the inputs)", key="loss")
    return _parse(spec.loss, names, "loss")


def build_network(spec: Spec) -> Network:
    """Build the labelled DAG of a validated spec. Raises :class:`SpecError` for bad structure."""
    names = _template_symbols(spec)
    node_exprs = {n: _parse(text, {k: v for k, v in names.items() if k != n}, f"nodes.{n}")
                  for n, text in spec.nodes.items()}
    for n, text in spec.nodes.items():
        if sp.Symbol(n) in node_exprs[n].free_symbols:
            raise SpecError(f"'{n}' feeds itself (a self-loop)", key=f"nodes.{n}")
    order = _entity_order(spec, node_exprs, names)
    activations = _activations(spec)
    softmax_group = [n for n in spec.neurons if spec.neurons[n].activation == "softmax"]
    for n in softmax_group:
        if n not in spec.outputs:
            raise SpecError("softmax is for output neurons (they form one group)",
                            key=_activation_key(spec, n))
    feeding = {src for nr in spec.neurons.values() for src, _ in nr.sources}
    feeding |= {str(s).removeprefix("out_") for e in node_exprs.values() for s in e.free_symbols}
    for n in softmax_group:
        if n in feeding:
            raise SpecError("a softmax output may only feed the loss", key=f"neurons.{n}")

    g = nx.DiGraph()
    for p in spec.parameters:
        _add(g, p, "param", label=p)
    has_data = spec.has_data
    copies = [None] if not has_data else list(range(1, len(spec.examples) + 1))
    _build_examples(g, spec, copies, order, node_exprs, names, activations, softmax_group)

    root = _add_root(g, spec, copies)
    wrt_ids = []
    for w in spec.wrt:
        if w in spec.inputs and has_data:
            raise SpecError(f"'{w}' is an input with one value per example; "
                            "differentiate with respect to parameters", key="wrt")
        wrt_ids.append(w)
    topo = tuple(nx.topological_sort(g))
    return Network(spec=spec, graph=g, root=root, wrt=tuple(wrt_ids), examples=len(copies), order=topo)


def _activation_key(spec: Spec, neuron: str) -> str:
    """Where the user wrote a neuron's activation: its own key, or the ``layers:`` shorthand's."""
    raw = spec.raw or {}
    if "layers" not in raw:
        return f"neurons.{neuron}.activation"
    if "activations" not in raw:
        return "activation"
    layer = len(raw["layers"]) - 1 if neuron.startswith("y") else int(neuron[1:].split("_")[0])
    return f"activations[{layer - 1}]"


def _activations(spec: Spec):
    acts = {}
    for n, neuron in spec.neurons.items():
        key = _activation_key(spec, n)
        if neuron.activation in GROUP_ACTIVATIONS:
            acts[n] = None
            continue
        if neuron.activation not in ACTIVATIONS and neuron.activation.isidentifier():
            raise SpecError(f"unknown activation '{neuron.activation}' (choose from "
                            f"{', '.join(list(ACTIVATIONS) + list(GROUP_ACTIVATIONS))} "
                            "or write an expression in x)", key=key)
        try:
            acts[n] = activation_from_text(neuron.activation, where=key)
        except ExpressionError as exc:
            raise SpecError(str(exc).removeprefix(f"{key}: "), key=key) from None
    return acts


def _add(g: nx.DiGraph, node: str, kind: str, *, definition=None, label: str, example=None,
         owner: str | None = None) -> sp.Symbol:
    symbol = sp.Symbol(node)
    g.add_node(node, kind=NodeKind(kind), symbol=symbol, definition=definition, label=label,
               example=example, owner=owner or label)
    return symbol


def _build_examples(g, spec: Spec, copies, order, node_exprs, names, activations, softmax_group) -> None:
    """Every example's copy. Without batch statistics one example after the other; with them, in
    stages: every example up to a ``batch_norm``, its mean and variance across the examples, on."""
    build = (g, spec, node_exprs, names, activations)
    if not spec.batch_norms:
        for ex in copies:
            local = _example_leaves(g, spec, ex, names)
            _build_entities(*build, ex, order, local)
            _finish_example(g, spec, ex, local, names, softmax_group)
        return
    locals_ = {ex: _example_leaves(g, spec, ex, names) for ex in copies}
    stage: list[str] = []
    for n in list(order) + [None]:
        if n is not None and n not in spec.batch_norms:
            stage.append(n)
            continue
        for ex in copies:
            _build_entities(*build, ex, stage, locals_[ex])
        stage = []
        if n is not None:
            _add_batch_norm(g, spec.batch_norms[n], copies, locals_, names)
    for ex in copies:
        _finish_example(g, spec, ex, locals_[ex], names, softmax_group)


def _add_batch_norm(g, norm, copies, locals_, names) -> None:
    """``mu`` and ``var`` over every example's copy of the source (one node each), then each
    example's ``gamma·(x − mu)/sqrt(var + eps) + beta``: edges into them from every example."""
    xs = [locals_[ex][names[norm.source]] for ex in copies]
    m = len(xs)
    mu_def = sp.Add(*xs) / m
    mu = _add(g, norm.mean, "node", definition=mu_def, label=norm.mean)
    for x in xs:
        g.add_edge(str(x), norm.mean, derivative=sp.Rational(1, m))
    var_def = sp.Add(*[(x - mu) ** 2 for x in xs]) / m
    var = _add(g, norm.variance, "node", definition=var_def, label=norm.variance)
    for s in [*xs, mu]:
        g.add_edge(str(s), norm.variance, derivative=sp.diff(var_def, s))
    gamma = g.nodes[norm.gamma]["symbol"] if norm.gamma else sp.Integer(1)
    beta = g.nodes[norm.beta]["symbol"] if norm.beta else sp.Integer(0)
    for ex, x in zip(copies, xs):
        node = norm.name + suffix(ex)
        definition = gamma * (x - mu) / sp.sqrt(var + norm.eps) + beta
        locals_[ex][names[norm.name]] = _add(g, node, "node", definition=definition, label=norm.name, example=ex)
        for s in sorted(definition.free_symbols, key=str):
            g.add_edge(str(s), node, derivative=sp.diff(definition, s))


def _example_leaves(g, spec: Spec, ex, names) -> dict[sp.Symbol, sp.Symbol]:
    """One example's inputs (added to the graph) and the shared parameters: template symbol → its symbol."""
    sfx = suffix(ex)
    local: dict[sp.Symbol, sp.Symbol] = {}
    for i in spec.inputs:
        local[names[i]] = _add(g, i + sfx, "input", label=i, example=ex)
    for p in spec.parameters:
        local[names[p]] = g.nodes[p]["symbol"]
    return local


def _build_entities(g, spec: Spec, node_exprs, names, activations, ex, order, local) -> None:
    """One example's neurons and expression nodes among ``order``."""
    sfx = suffix(ex)
    for n in order:
        if n in spec.neurons:
            _add_neuron(g, spec, n, sfx, ex, local, names, activations[n])
        else:
            definition = node_exprs[n].xreplace(local)
            sym = _add(g, n + sfx, "node", definition=definition, label=n, example=ex)
            local[names[n]] = sym
            for s in sorted(definition.free_symbols, key=str):
                g.add_edge(str(s), n + sfx, derivative=sp.diff(definition, s))


def _finish_example(g, spec: Spec, ex, local, names, softmax_group) -> None:
    """A softmax group's outputs (once the whole group exists) and the targets of one example."""
    sfx = suffix(ex)
    if softmax_group:
        nets = [g.nodes[f"net_{n}{sfx}"]["symbol"] for n in softmax_group]
        outs_def = softmax_outputs(nets)
        outs = [_add(g, f"out_{n}{sfx}", "out", definition=d, label=f"out_{n}", example=ex, owner=n)
                for n, d in zip(softmax_group, outs_def)]
        for k, (n_k, out_k) in enumerate(zip(softmax_group, outs)):
            local[names[n_k]] = out_k
            for j, n_j in enumerate(softmax_group):
                g.add_edge(f"net_{n_j}{sfx}", f"out_{n_k}{sfx}",
                           derivative=softmax_derivative(out_k, outs[j], k == j))
    for o in spec.target_outputs:
        _add(g, f"t_{o}{sfx}", "target", label=f"t_{o}", example=ex, owner=o)


def _add_neuron(g, spec: Spec, n: str, sfx: str, ex, local, names, activation) -> None:
    neuron = spec.neurons[n]
    terms = []
    uses: dict[str, list[sp.Expr]] = {}  # parameter -> what it multiplies (∂net/∂param sums them)
    net_id = f"net_{n}{sfx}"
    weight: dict[str, sp.Expr] = {}  # source -> its weight: a parameter's symbol or a constant
    for src, p in neuron.sources:
        src_sym = local[names[src]]
        weight[src] = g.nodes[p]["symbol"] if isinstance(p, str) else p
        terms.append(product(weight[src], src_sym))
        if isinstance(p, str):
            uses.setdefault(p, []).append(src_sym)
    if neuron.bias:
        terms.append(g.nodes[neuron.bias]["symbol"])
        uses.setdefault(neuron.bias, []).append(sp.Integer(1))
    net = _add(g, net_id, "net", definition=sp.Add(*terms), label=f"net_{n}", example=ex, owner=n)
    for src, _ in neuron.sources:
        g.add_edge(str(local[names[src]]), net_id, derivative=weight[src])
    for p, factors in uses.items():
        g.add_edge(p, net_id, derivative=factors[0] if len(factors) == 1 else sp.Add(*factors))
    if activation is None:  # softmax: outputs added once the whole group exists
        return
    alpha = neuron.alpha if neuron.alpha is not None else (
        DEFAULT_LEAKY_ALPHA if activation.needs_alpha else None)
    out_id = f"out_{n}{sfx}"
    out = sp.Symbol(out_id)
    _add(g, out_id, "out", definition=activation.apply(net, alpha), label=f"out_{n}", example=ex, owner=n)
    g.add_edge(net_id, out_id, derivative=activation.derivative(net, out, alpha))
    local[names[n]] = out


def _add_root(g, spec: Spec, copies) -> str:
    """The loss node (or the objective node itself, for one example without data)."""
    if spec.objective is not None and copies == [None]:
        return spec.objective if spec.objective in spec.nodes else f"out_{spec.objective}"
    name = _loss_symbol(spec)
    if spec.objective is not None:
        per_example = sp.Symbol(spec.objective if spec.objective in spec.nodes else f"out_{spec.objective}")
    else:
        per_example = per_example_loss(spec)
    parts = []
    for ex in copies:
        sfx = suffix(ex)
        mapping = {s: sp.Symbol(str(s) + sfx) for s in per_example.free_symbols}
        for s in mapping.values():
            if str(s) not in g:
                raise SpecError(f"the loss uses '{str(s).removesuffix(sfx)}', which is not an "
                                "output, target or input symbol", key="loss")
        parts.append(per_example.xreplace(mapping))
    scale = sp.Rational(1, len(copies)) if spec.reduction == "mean" else sp.Integer(1)
    total = sp.Add(*parts) * scale
    # ∂E/∂s term by term: each example's symbols appear only in its own part (O(N), not O(N²))
    derivatives: dict[sp.Symbol, list[sp.Expr]] = {}
    for part in parts:
        for s in part.free_symbols:
            derivatives.setdefault(s, []).append(scale * sp.diff(part, s))
    if spec.l2 is not None:
        regularised = [g.nodes[p]["symbol"] for p in
                       list(spec.weights) + (list(spec.biases) if spec.l2_include_biases else [])]
        total = total + spec.l2 * sp.Add(*[p ** 2 for p in regularised])
        for p in regularised:
            derivatives.setdefault(p, []).append(2 * spec.l2 * p)
    _add(g, name, "loss", definition=total, label=name)
    for s in sorted(derivatives, key=str):
        g.add_edge(str(s), name, derivative=sp.Add(*derivatives[s]))
    return name

"""What every check needs to know about a spec: the correct derivation, its names, test points.

A :class:`CheckContext` holds the reference derivation — always the true gradient
(``backprop_weights: old``), even when the spec asks for the lecture's variant — and offers:

- the names an answer may use (:meth:`CheckContext.answer_names`): inputs, parameters,
  targets, ``net_X``/``out_X``, expression nodes, the loss, the true ``delta_X``, the
  learning rate ``eta`` and L2 coefficient ``lambda`` (when they are not user names), and
  the *swapped* spelling of each weight (``w_TA`` for ``w_AT``, see :func:`weight_partner`)
  so that an answer with swapped indices parses and can be diagnosed;
- test points: the spec's own values first (when given), then random leaves; at each
  point every forward quantity and every δ is computed to 40 digits (:meth:`valuation`),
  so an answer in any mix of lecture symbols and expanded forms has one value;
- :meth:`adjoint`, the backward pass over the graph with some edge labels changed, which
  is how the slip catalogue builds each slip's version of the derivation, and
  :meth:`paths`, the paths from a node to the loss.
"""
from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Iterable, Mapping

import mpmath
import networkx as nx
import sympy as sp

from ..derive import Derivation
from ..derive.backprop import backprop, graph_label
from ..derive.expand import Expander
from ..derive.paths import enumerate_paths, path_counts
from ..errors import SpecError
from ..graph import NodeKind
from .evaluate import MP, Program, compile_expr

DIGITS = 40
"""Decimal digits of the test-point arithmetic."""

MAX_NET = 40
"""Largest |net| at a wide test point: σ(40) is 1 − 4·10⁻¹⁸, still 22 digits from 1 at 40 digits."""

LOSS_ALIASES = ("E", "J", "C", "L", "loss")


class NotApplicable(Exception):
    """A slip cannot be applied to this derivation (e.g. no learning rate for updated weights)."""


@dataclass(frozen=True)
class Target:
    """What an answer is for: ``∂E/∂w`` of a parameter (or wrt input), or ``δ_X``."""

    kind: str             # "gradient" or "delta"
    key: str              # parameter name (w_AT) or delta key (T, z__2)
    node: str             # graph node the adjoint belongs to: w_AT, net_T, S
    label: str            # as shown: dE/dw_AT, delta_T
    correct: sp.Expr      # the lecture form (δs of successors, outs, nets, targets)
    condition: str | None = None


@dataclass(frozen=True)
class Point:
    """One test point: leaf values (exact) and every symbol's value at 40 digits."""

    leaves: dict[sp.Symbol, sp.Rational]
    values: dict[sp.Symbol, object]
    from_spec: bool = False


def weight_partner(name: str, source: str, target: str) -> str | None:
    """The spelling of weight ``name`` (on the edge ``source → target``) with its two indices swapped.

    - generated layered names ``w{l}_{j}_{i}`` → ``w{l}_{i}_{j}`` (row and column of ``W⁽ˡ⁾``);
    - ``<prefix>_<source><target>`` → ``<prefix>_<target><source>`` (``w_AT`` → ``w_TA``,
      ``W_lambdaA`` → ``W_Alambda``);
    - otherwise an index of exactly two characters after ``_`` or after the letters is
      reversed (``w_BF`` → ``w_FB``, ``W1_12`` → ``W1_21``, ``u12`` → ``u21``).

    Returns ``None`` when the name has no such pair of indices or both indices are equal.

    >>> weight_partner("w_AT", "A", "T"), weight_partner("w2_1_3", "h1_3", "h2_1")
    ('w_TA', 'w2_3_1')
    >>> weight_partner("W_lambdaA", "lambda", "A"), weight_partner("w_BF", "Bo", "F")
    ('W_Alambda', 'w_FB')
    >>> weight_partner("W1_12", "x2", "h1"), weight_partner("u12", "x2", "h1"), weight_partner("w1", "x", "h")
    ('W1_21', 'u21', None)
    """
    partner = None
    m = re.fullmatch(r"([^\W\d_]+\d+)_(\d+)_(\d+)", name)
    if m:
        partner = f"{m.group(1)}_{m.group(3)}_{m.group(2)}"
    elif "_" in name:
        prefix, _, rest = name.rpartition("_")
        if rest == source + target:
            partner = f"{prefix}_{target}{source}"
        elif len(rest) == 2:
            partner = f"{prefix}_{rest[::-1]}"
    else:
        m = re.fullmatch(r"([^\W\d_]+)(\d)(\d)", name)
        if m:
            partner = f"{m.group(1)}{m.group(3)}{m.group(2)}"
    return partner if partner and partner != name else None


class CheckContext:
    """The correct derivation of a spec and the machinery to compare answers with it."""

    def __init__(self, derivation: Derivation):
        spec = self.spec = derivation.spec
        self.variant_requested = spec.backprop_weights == "updated"
        derivation = derivation.true or derivation   # answers are checked against the true gradient
        self.derivation = derivation
        self.network = derivation.network
        self.graph: nx.DiGraph = derivation.network.graph
        self.root = derivation.network.root
        self.order = derivation.network.order
        self.relevant = nx.ancestors(self.graph, self.root) | {self.root}
        self.loss_name = str(self.graph.nodes[self.root]["symbol"])
        self.examples = derivation.network.examples
        self.learning_rate = spec.learning_rate
        self.l2 = spec.l2
        self.delta_symbols = {key: d.symbol for key, d in derivation.deltas.items()}
        self.delta_nodes = {key: d.node for key, d in derivation.deltas.items()}
        self.one_hot_condition = next((d.condition for d in derivation.deltas.values() if d.condition), None)

    # ------------------------------------------------------------------ names
    def kind(self, node: str) -> str | None:
        attrs = self.graph.nodes.get(node)
        return attrs["kind"] if attrs else None

    def symbol(self, node: str) -> sp.Symbol:
        return self.graph.nodes[node]["symbol"]

    @cached_property
    def user_names(self) -> set[str]:
        spec = self.spec
        return set(spec.inputs) | set(spec.parameters) | set(spec.neurons) | set(spec.nodes)

    @cached_property
    def weight_edges(self) -> dict[str, list[tuple[str, str]]]:
        """Parameter → the (source, target) neuron/input pairs it weights, from the spec."""
        edges: dict[str, list[tuple[str, str]]] = {}
        for n, neuron in self.spec.neurons.items():
            for src, p in neuron.weighted_sources:
                edges.setdefault(p, []).append((src, n))
        return edges

    @cached_property
    def partners(self) -> dict[str, str]:
        """Weight → its swapped-index spelling (an existing parameter or an alias)."""
        out = {}
        taken = self._base_names()
        for p, pairs in self.weight_edges.items():
            if len(pairs) != 1:
                continue
            partner = weight_partner(p, *pairs[0])
            if partner is None:
                continue
            if partner in self.spec.parameters or partner not in taken:
                out[p] = partner
        return out

    @cached_property
    def aliases(self) -> dict[str, sp.Symbol]:
        """Swapped spellings that name no parameter: symbols of their own (random at test points)."""
        return {q: sp.Symbol(q) for q in sorted(set(self.partners.values())) if q not in self.spec.parameters}

    def _base_names(self) -> set[str]:
        names = {str(self.graph.nodes[n]["symbol"]) for n in self.graph}
        names |= {str(s) for s in self.delta_symbols.values()}
        return names | self.user_names

    @cached_property
    def constants(self) -> dict[str, sp.Expr]:
        """``eta``/``η`` (learning rate) and ``lambda``/``λ`` (L2 coefficient), unless user names."""
        out: dict[str, sp.Expr] = {}
        taken = self._base_names()
        if self.learning_rate is not None:
            for n in ("eta", "η"):
                if n not in taken:
                    out[n] = self.learning_rate
        if self.l2 is not None:
            for n in ("lambda", "λ"):
                if n not in taken:
                    out[n] = self.l2
        return out

    @cached_property
    def answer_names(self) -> dict[str, sp.Expr]:
        """Every name an answer may use, mapped to what it stands for."""
        names: dict[str, sp.Expr] = {}
        for n in self.graph:
            sym = self.graph.nodes[n]["symbol"]
            names[str(sym)] = sym
        for sym in self.delta_symbols.values():
            names[str(sym)] = sym
        for name, sym in self.aliases.items():
            names.setdefault(name, sym)
        if self.spec.has_data and self.examples == 1:
            for name, sym in list(names.items()):
                if name.endswith("__1"):
                    names.setdefault(name[:-3], sym)
        for name, value in self.constants.items():
            names.setdefault(name, value)
        return names

    # ------------------------------------------------------------------ targets
    def targets(self) -> list[str]:
        """The names ``--wrt`` accepts, gradients first."""
        return list(self.derivation.gradients) + [str(s) for s in self.delta_symbols.values()]

    def target(self, text: str) -> Target:
        """Resolve ``w_AT``, ``dE_dw_AT``, ``grad_w_AT`` or ``delta_T`` (raises SpecError)."""
        name = text.strip()
        grads = self.derivation.gradients
        wanted = None
        if name in grads:
            wanted = name
        else:
            m = re.fullmatch(r"(?:grad_|d(?:[^\W\d_]\w*?)_d)(.+)", name)
            if m and m.group(1) in grads and (name.startswith("grad_") or self._loss_prefix_ok(name, m.group(1))):
                wanted = m.group(1)
        if wanted is not None:
            return Target("gradient", wanted, wanted, f"d{self.loss_name}/d{wanted}", grads[wanted].expression)
        by_symbol = {str(s): k for k, s in self.delta_symbols.items()}
        if self.spec.has_data and self.examples == 1:
            by_symbol.update({s[:-3]: k for s, k in list(by_symbol.items()) if s.endswith("__1")})
        if name in by_symbol:
            key = by_symbol[name]
            d = self.derivation.deltas[key]
            return Target("delta", key, d.node, str(d.symbol), d.expression, d.condition)
        options = self.targets()
        shown = ", ".join(options[:10]) + (", …" if len(options) > 10 else "")
        raise SpecError(f"'{name[:40]}' is not something this network has a derivative for "
                        f"(a parameter such as {shown}, written w, dE_dw or grad_w, or a delta)")

    def circular_symbols(self, target: Target) -> dict[sp.Symbol, str]:
        """The cached δs an answer for ``target`` may not use, each with why: for ``δ_j``, ``δ_j``
        itself and every δ defined through it (the δs of nodes upstream of ``j``); a gradient's
        answer may use every δ (the lecture's cached form ``δ_j·input``).

        >>> from symbackprop import derive, load_spec
        >>> ctx = CheckContext(derive(load_spec("examples/we05-221-sigmoid.yaml")))
        >>> sorted(map(str, ctx.circular_symbols(ctx.target("delta_F"))))
        ['delta_Bo', 'delta_F', 'delta_T']
        """
        if target.kind != "delta":
            return {}
        upstream = nx.ancestors(self.graph, target.node)
        banned = {}
        for key, sym in self.delta_symbols.items():
            node = self.delta_nodes[key]
            if node == target.node:
                banned[sym] = f"the answer for {target.label} may not use {sym} itself"
            elif node in upstream:
                banned[sym] = f"the answer for {target.label} may not use {sym}, which is defined through {target.label}"
        return banned

    def _loss_prefix_ok(self, name: str, wrt: str) -> bool:
        loss = name[1:len(name) - len(wrt) - 2]
        return loss == self.loss_name or (loss in LOSS_ALIASES and loss not in self.user_names)

    # ------------------------------------------------------------------ definitions
    @cached_property
    def definitions(self) -> list[tuple[sp.Symbol, sp.Expr]]:
        return self.derivation.definitions()

    @cached_property
    def delta_expander(self) -> Expander:
        return Expander({d.symbol: d.expression for d in self.derivation.deltas.values()}, 20_000)

    @cached_property
    def full_expander(self) -> Expander:
        return Expander(dict(self.definitions), 20_000)

    @cached_property
    def _programs(self) -> list[tuple[sp.Symbol, Program]]:
        return [(s, compile_expr(e)) for s, e in self.definitions]

    def leaves(self) -> list[tuple[sp.Symbol, str, str]]:
        """(symbol, kind, node) of every input, parameter and target, in graph order."""
        return [(self.graph.nodes[n]["symbol"], self.graph.nodes[n]["kind"], n) for n in self.network.leaves()]

    # ------------------------------------------------------------------ test points
    def spec_point(self) -> dict[sp.Symbol, sp.Rational] | None:
        """The leaves at the spec's own values, exact (None without values)."""
        if not self.spec.has_values:
            return None
        params = {p: sp.Rational(v) for p, v in self.spec.params_values.items()}
        return {s: sp.Rational(v) for s, v in self.network.leaf_values(params, sp.Rational).items()}

    def random_point(self, rng: random.Random, wide: bool = False, decades: float = 3.0) -> dict[sp.Symbol, sp.Rational]:
        """Random leaves: inputs and parameters in ±[0.05, 1.5] with two decimals, or with
        ``wide`` log-uniform in ±[10⁻ᵈ, 10ᵈ] (``d = decades``; three significant figures, either
        sign), so an answer that is right only near the lecture's values is caught; targets in (0, 1).

        With a softmax + cross-entropy group (whose simple δ needs Σt = 1) each example's
        targets are drawn to sum to 1.
        """
        def draw() -> sp.Rational:
            if not wide:
                return sp.Rational(rng.randint(5, 150) * rng.choice((-1, 1)), 100)
            exponent = rng.uniform(-decades, decades)
            mantissa = round(10 ** (exponent - math.floor(exponent)) * 100)
            return rng.choice((-1, 1)) * sp.Rational(mantissa, 100) * sp.Integer(10) ** math.floor(exponent)

        point: dict[sp.Symbol, sp.Rational] = {}
        targets: dict[int | None, list[sp.Symbol]] = {}
        for sym, kind, node in self.leaves():
            if kind == "target":
                point[sym] = sp.Rational(rng.randint(5, 95), 100)
                targets.setdefault(self.graph.nodes[node]["example"], []).append(sym)
            else:
                point[sym] = draw()
        if self.one_hot_condition:
            for syms in targets.values():
                weights = [rng.randint(1, 9) for _ in syms]
                total = sum(weights)
                for s, w in zip(syms, weights):
                    point[s] = sp.Rational(w, total)
        for sym in self.aliases.values():
            point[sym] = draw()
        return point

    def valuation(self, leaves: Mapping[sp.Symbol, sp.Rational], digits: int = DIGITS) -> dict[sp.Symbol, object]:
        """Every symbol's value at ``leaves`` (``digits`` digits); undefined ones are ``None``."""
        with mpmath.workdps(digits):
            values: dict[sp.Symbol, object] = {s: mpmath.mpf(v.p) / v.q for s, v in leaves.items()}
            for sym, program in self._programs:
                values[sym] = program.evaluate(values, MP)
        return values

    def points(self, count: int, seed: int = 0) -> list[Point]:
        """The spec's values (when given and usable) and then random points, ``count`` in all."""
        rng = random.Random(seed)
        out: list[Point] = []
        at_spec = self.spec_point()
        if at_spec is not None and "does NOT hold" not in (self.one_hot_condition or ""):
            for sym in self.aliases.values():
                at_spec[sym] = sp.Rational(rng.randint(5, 150), 100)
            out.append(Point(at_spec, self.valuation(at_spec), True))
        while len(out) < count:   # alternately near the lecture's values and over six decades
            out.append(self._wide_point(rng) if len(out) % 2 == 1 else self._point(self.random_point(rng)))
        return out

    def _point(self, leaves: dict[sp.Symbol, sp.Rational]) -> Point:
        return Point(leaves, self.valuation(leaves))

    def _wide_point(self, rng: random.Random) -> Point:
        """A point over several decades whose nets stay within ±:data:`MAX_NET` (beyond, σ and
        tanh round to 0 or 1 at 40 digits and every form of f′ reads 0): fewer decades
        until that holds, else a point near the lecture's values."""
        nets = [self.symbol(n) for n in self.graph if self.kind(n) == NodeKind.NET]
        for decades in (3.0, 2.5, 2.0, 1.5, 1.0, 0.5):
            point = self._point(self.random_point(rng, wide=True, decades=decades))
            if all(point.values.get(s) is not None and abs(point.values[s]) <= MAX_NET for s in nets):
                return point
        return self._point(self.random_point(rng))

    # ------------------------------------------------------------------ backward pass with changes
    def label(self, u: str, v: str) -> sp.Expr:
        return self.graph.edges[u, v]["derivative"]

    def between(self, start: str) -> set[str]:
        """Nodes on some path from ``start`` to the loss."""
        return (nx.descendants(self.graph, start) | {start}) & self.relevant

    def adjoint(self, start: str, labels: Mapping[tuple[str, str], sp.Expr] | None = None, *,
                updated: bool = False) -> sp.Expr:
        """∂E/∂start with some edge labels replaced, in δ-free lecture symbols: the one backward
        rule (:func:`symbackprop.derive.backprop.backprop` with ``cache=False``).

        ``updated=True`` is the lecture variant: every weight on an edge a δ is propagated
        through is replaced by its already-updated value ``w − η·∂E/∂w`` (raises
        :class:`NotApplicable` without a learning rate or when a weight is shared upstream).
        """
        if updated and self.learning_rate is None:
            raise NotApplicable("no learning rate")
        try:
            sweep = backprop(self.network, labels=labels, cache=False, start=start,
                             through_updated=updated, learning_rate=self.learning_rate)
        except SpecError as exc:  # a weight also used upstream of where it is updated
            raise NotApplicable(str(exc)) from None
        return sweep.carried.get(start, sp.Integer(0))

    def paths(self, start: str, limit: int) -> list[tuple[str, ...]] | None:
        """Every path from ``start`` to the loss, or None if there are more than ``limit``
        (counted first, so nothing is enumerated past it)."""
        if path_counts(self.network)[start] > limit:
            return None
        return [term.nodes for term in enumerate_paths(self.network, start)]

    def path_product(self, path: Iterable[str], labels: Mapping[tuple[str, str], sp.Expr] | None = None) -> sp.Expr:
        """The product of the edge labels along ``path`` (some replaced by ``labels``)."""
        label = graph_label(self.network, labels)
        nodes = list(path)
        return sp.Mul(*[label(a, b) for a, b in zip(nodes, nodes[1:])])

    # ------------------------------------------------------------------ readable names
    def node_text(self, node: str) -> str:
        """A node as a reader names it: ``net_T``, ``out_T``, ``w_AT``, ``E``."""
        return str(self.graph.nodes[node]["symbol"])

    def neuron_nodes(self) -> list[tuple[str, str, str]]:
        """(neuron key with example suffix, net node, out node) of every element-wise neuron."""
        g = self.graph
        out = []
        for node in self.order:
            attrs = g.nodes[node]
            if attrs["kind"] != "net":
                continue
            succ = [v for v in g.successors(node) if g.nodes[v]["kind"] == "out"]
            if len(succ) == 1 and g.nodes[succ[0]]["owner"] == attrs["owner"]:
                key = node.removeprefix("net_")
                out.append((key, node, succ[0]))
        return out

    def activation(self, neuron_key: str) -> str:
        owner = neuron_key.split("__")[0]
        return self.spec.neurons[owner].activation

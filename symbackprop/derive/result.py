"""The Derivation: the one result object every output (JSON, text, LaTeX, code) reads."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import sympy as sp

from ..graph import Network
from ..latex import to_latex
from ..names import suffix
from ..ordering import text
from .backprop import Adjoints
from .expand import DEFAULT_LIMIT, Expander, ExpansionTooLarge
from .paths import PathTerm


@dataclass(frozen=True)
class DeltaEntry:
    """δ of one net (``∂E/∂net``) or expression node (``∂E/∂node``)."""

    node: str                       # graph node id: net_T, S, net_T__2
    key: str                        # result key: T, S, T__2
    symbol: sp.Symbol               # delta_T
    expression: sp.Expr             # lecture form (cached δs of successors, outs, nets, targets)
    simplified: sp.Expr | None = None
    condition: str | None = None
    paths: tuple[PathTerm, ...] | None = None


@dataclass(frozen=True)
class GradientEntry:
    """∂E/∂w for one parameter (or ``wrt`` input)."""

    name: str
    expression: sp.Expr
    path_count: int
    paths: tuple[PathTerm, ...] | None = None


@dataclass(frozen=True)
class Numbers:
    """Float64 values at the spec's ``values``: every node, δ and gradient, and one update step."""

    forward: dict[str, float]
    deltas: dict[str, float]
    gradients: dict[str, float]
    updated_params: dict[str, float] | None = None
    forward_after: dict[str, float] | None = None
    true_deltas: dict[str, float] | None = None       # the lecture variant's true δs
    true_gradients: dict[str, float] | None = None    # and true gradients (``Derivation.true``)
    adjoints: dict[str, float] = field(default_factory=dict)   # out node -> ∂E/∂out handed back
    slopes: dict[str, float] = field(default_factory=dict)     # net node -> ∂out/∂net of its own out, f′(net)
    example_losses: list[float] | None = None          # with data: the loss of each example


@dataclass(frozen=True)
class PathCheck:
    """The sum over paths evaluated against the cached backprop gradient, parameter by parameter
    (``method="paths"``): ``values`` at ``where`` agree to a relative 1e-8, or derive raised."""

    where: str                     # "at the given values" or a test-point sentence
    values: dict[str, float]       # parameter -> the gradient's value there
    products: dict[str, list[float]] = field(default_factory=dict)   # parameter -> each path's product there


@dataclass(frozen=True)
class Derivation:
    """∂E/∂w for every parameter, by one method, with everything needed to show the work.

    ``method`` is ``"backprop"`` or ``"paths"``; both give the same type and equal gradients.
    With ``backprop_weights: updated`` the deltas and gradients are the lecture variant (not
    the gradient) and ``true`` holds the real derivation. With numbers, ``warnings`` lists every
    node evaluated at (or within 1e-12 of) a kink or tie (``{"node", "kind", "message"}``, see
    :mod:`symbackprop.kinks`); its derivative there is the documented subgradient.

    >>> from symbackprop import derive, load_spec
    >>> d = derive(load_spec("examples/we05-221-sigmoid.yaml"))
    >>> d.deltas["T"].expression, round(d.numbers.gradients["w_AT"], 6)
    (delta_F*out_T*w_TF*(1 - out_T), 0.000929)
    >>> u = derive(load_spec("examples/we05-221-sigmoid-updated.yaml"))
    >>> u.is_variant, round(u.numbers.gradients["w_AT"], 6), round(u.true.numbers.gradients["w_AT"], 6)
    (True, 0.000843, 0.000929)
    """

    network: Network
    method: str
    deltas: dict[str, DeltaEntry]
    gradients: dict[str, GradientEntry]
    updated_definitions: dict[sp.Symbol, sp.Expr] = field(default_factory=dict)
    numbers: Numbers | None = None
    notes: tuple[str, ...] = ()
    expansion_limit: int = DEFAULT_LIMIT
    adjoints: Adjoints | None = field(default=None, repr=False)    # the backward pass behind it
    cached: dict[str, sp.Expr] | None = None       # method="paths": backprop's lecture form per gradient
    path_check: PathCheck | None = None            # method="paths": sum over paths vs cached, in numbers
    true: "Derivation | None" = field(default=None, repr=False)   # the variant's true gradient
    complete: "Derivation | None" = field(default=None, repr=False)  # w.r.t. every parameter, when this is not
    rederive: Any = field(default=None, repr=False, compare=False)   # derive itself, for relatives made on demand
    warnings: list[dict[str, str]] = field(default_factory=list)   # with numbers: nodes at a kink or tie

    # ------------------------------------------------------------ basic facts
    @property
    def spec(self):
        return self.network.spec

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def loss_name(self) -> str:
        return self.network.root

    @property
    def loss_definition(self) -> sp.Expr:
        g = self.network.graph
        return g.nodes[self.loss_name]["definition"]

    @property
    def is_variant(self) -> bool:
        """``backprop_weights: updated``: these δs and gradients are the lecture's, ``true`` the gradient's."""
        return self.true is not None

    @property
    def variant_kind(self) -> str | None:
        """Which variant: ``"updated"`` (backprop_weights: updated), ``"truncated"`` (truncated
        BPTT, ``recurrent: {truncate: k}``), or None for the gradient itself."""
        if not self.is_variant:
            return None
        return "truncated" if self.spec.detached else "updated"

    @property
    def true_gradients(self) -> dict[str, sp.Expr] | None:
        """The variant's true gradient expressions (None for a plain derivation)."""
        return {k: g.expression for k, g in self.true.gradients.items()} if self.true else None

    @property
    def true_deltas(self) -> dict[str, sp.Expr] | None:
        """The variant's true δ expressions (None for a plain derivation)."""
        return {k: e.expression for k, e in self.true.deltas.items()} if self.true else None

    @cached_property
    def stats(self) -> dict[str, Any]:
        """Operation counts of both methods for the full gradient and the number of paths (WE-14)."""
        from .stats import stats

        return stats(self)

    @cached_property
    def per_example(self) -> "Derivation":
        """One example's loss by cached backprop — no data copies, no regularisation, the true
        gradient (not the lecture variant), no values: what generated code batches over.
        ``self`` when it is that already; else derived once, on first use."""
        spec = self.spec
        if (not spec.has_data and spec.l2 is None and spec.backprop_weights == "old" and not spec.detached
                and self.method == "backprop"):
            return self
        from dataclasses import replace

        core = replace(spec, has_data=False, examples=(), params_values=None, l2=None,
                       l2_include_biases=False, reduction="sum", backprop_weights="old", learning_rate=None,
                       detached=())
        return self.rederive(core, "backprop", expansion_limit=self.expansion_limit)

    @property
    def reference(self) -> "Derivation":
        """The true gradient with respect to every parameter (and ``wrt`` input): ``self`` when it is
        that already, else the one ``derive`` made beside it (a ``wrt`` subset, the lecture variant)."""
        return self.complete or self

    def definitions(self) -> list[tuple[sp.Symbol, sp.Expr]]:
        """Forward definitions, then δ definitions (and updated weights, in the variant)."""
        defs = self.network.definitions()
        defs += [(d.symbol, d.expression) for d in self.deltas.values()]
        defs += list(self.updated_definitions.items())
        return defs

    # ------------------------------------------------------------ expansion
    @cached_property
    def _expander(self) -> Expander:
        return Expander(dict(self.definitions()), self.expansion_limit)

    def expanded(self, expr: sp.Expr) -> sp.Expr:
        """``expr`` in inputs, parameters and targets only; raises ExpansionTooLarge past the limit."""
        return self._expander.expand(expr)

    def _expanded_text(self, expr: sp.Expr) -> str | None:
        try:
            return text(self.expanded(expr))
        except (ExpansionTooLarge, RecursionError):  # very deep networks: no expanded form
            return None

    # ------------------------------------------------------------ notebooks
    def _repr_latex_(self) -> str:
        """Jupyter shows the gradients as formulas."""
        from ..render.notebook import (
            derivation_latex,  # the one upward hook (see .importlinter)
        )

        return derivation_latex(self)

    def _repr_html_(self) -> str:
        """Jupyter shows the network: click a weight for its paths, a neuron for its formulas."""
        from ..serve.notebook import derivation_html  # the other upward hook (see .importlinter)

        return derivation_html(self)

    # ------------------------------------------------------------ JSON
    def to_dict(self, *, expanded: bool = True) -> dict[str, Any]:
        """The JSON result (see docs/json.md for every key)."""
        n = self.numbers
        out: dict[str, Any] = {"name": self.name, "method": self.method,
                               "backprop_weights": self.spec.backprop_weights}
        loss_def = self.loss_definition
        loss: dict[str, Any] = {"symbol": self.loss_name, "expression": text(loss_def)}
        if expanded:
            loss["expanded"] = self._expanded_text(loss_def)
        loss["latex"] = to_latex(loss_def)
        if n:
            loss["value"] = n.forward[self.loss_name]
        out["loss"] = loss
        if n:
            out["forward"] = self.forward_json(n.forward)
        out["deltas"] = {}
        for key, d in self.deltas.items():
            entry: dict[str, Any] = {"symbol": str(d.symbol), "expression": text(d.expression)}
            if expanded:
                entry["expanded"] = self._expanded_text(d.symbol)
            entry["latex"] = to_latex(d.expression)
            if d.simplified is not None:
                entry["simplified"] = text(d.simplified)
                entry["condition"] = d.condition
            if n:
                entry["value"] = n.deltas[key]
            if d.paths is not None:
                entry["path_count"] = len(d.paths)
            out["deltas"][key] = entry
        out["gradients"] = {}
        for name, gr in self.gradients.items():
            entry = {"expression": text(gr.expression)}
            if expanded:
                entry["expanded"] = self._expanded_text(gr.expression)
            entry["latex"] = to_latex(gr.expression)
            if n:
                entry["value"] = n.gradients[name]
            entry["path_count"] = gr.path_count
            if gr.paths is not None:
                entry["paths"] = [{"nodes": list(p.nodes), "factors": [text(f) for f in p.factors],
                                   "product": text(p.product)} for p in gr.paths]
            out["gradients"][name] = entry
        if n and n.updated_params is not None:
            out["learning_rate"] = float(self.spec.learning_rate)
            out["updated_params"] = n.updated_params
            out["loss_after_update"] = n.forward_after[self.loss_name]
            out["forward_after_update"] = self.forward_json(n.forward_after)
        if self.is_variant:
            variant: dict[str, Any] = {
                "kind": self.variant_kind,
                "note": self.notes[0] if self.notes else "",
                "true_gradients": {k: text(v) for k, v in self.true_gradients.items()},
                "updated_weights": {str(k): text(v) for k, v in self.updated_definitions.items()},
            }
            if n and n.true_gradients is not None:
                variant["true_gradient_values"] = n.true_gradients
                variant["true_delta_values"] = n.true_deltas
                diffs = [abs(n.gradients[k] - n.true_gradients[k]) for k in n.gradients]
                variant["max_abs_gradient_difference"] = max(diffs) if diffs else 0.0
            out["variant"] = variant
        if n:
            out["warnings"] = [dict(w) for w in self.warnings]
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    def forward_json(self, values: dict[str, float]) -> dict[str, Any]:
        """``{neuron: {net, out}, node: {value}}``; with data each value is a list over examples."""
        g = self.network.graph
        spec = self.spec
        examples = [None] if not spec.has_data else list(range(1, self.network.examples + 1))

        def pick(node_id: str):
            vals = [values[node_id + suffix(ex)] for ex in examples]
            return vals if spec.has_data else vals[0]

        result: dict[str, Any] = {}
        for name in spec.neurons:
            result[name] = {"net": pick(f"net_{name}"), "out": pick(f"out_{name}")}
        for name in spec.nodes:
            result[name] = {"value": pick(name)}
        for name, norm in spec.batch_norms.items():  # the batch's statistics: one value each
            result[name] = {"value": pick(name), "mean": values[norm.mean], "variance": values[norm.variance]}
        del g
        return result

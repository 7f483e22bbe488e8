"""The quantities a worked solution may state (forward values, loss, δs, gradients, updates, the second pass), their definitions and exact values at the spec's values."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

import sympy as sp

from ...derive.backprop import gather, graph_label
from ...errors import SpecError
from ...graph import NodeKind
from ...losses import LOSSES
from ...names import suffix
from ..context import LOSS_ALIASES, CheckContext
from ..evaluate import FLOAT, Program, compile_expr
from ..slips import DELTA, FORWARD, GRADIENT, LOSS, UPDATE, Change

MAX_CORNERS = 10  # error carried forward: a box of up to 2**10 corners, else samples


@dataclass
class Quantity:
    """One figure a worked solution can contain, with its formula in other figures' symbols."""

    key: str
    symbol: sp.Symbol
    kind: str   # leaf, forward, loss, loss_term, example_loss, delta, adjoint, gradient, update, step, after, after_loss
    node: str | None
    label: str
    template: sp.Expr | None = None       # forward/loss: definition in forward symbols
    formula: sp.Expr | None = None        # in worksheet symbols
    exact: float = float("nan")
    program: Program | None = None

    @property
    def step(self) -> str | None:
        return {"forward": FORWARD, "after": FORWARD, "loss": LOSS, "after_loss": LOSS, "loss_term": LOSS,
                "example_loss": LOSS, "delta": DELTA, "adjoint": DELTA, "gradient": GRADIENT, "update": UPDATE,
                "step": UPDATE}.get(self.kind)


class Worksheet:
    """Every quantity of one training step of a spec, its formula and exact value."""

    def __init__(self, ctx: CheckContext):
        if not ctx.spec.has_values:
            raise SpecError("the spec has no values: a numeric worked solution needs inputs, parameters "
                            "and targets", key="values")
        self.ctx = ctx
        g = ctx.graph
        self.quantities: dict[str, Quantity] = {}     # by the name a student writes
        self.by_symbol: dict[sp.Symbol, Quantity] = {}
        self._all: list[Quantity] = []                # also those whose name a user name took
        self.delta_symbol = {d.node: d.symbol for d in ctx.derivation.deltas.values()}
        for sym, kind, node in ctx.leaves():
            self._add(Quantity(str(sym), sym, "leaf", node, str(sym)))
        for node in ctx.order:
            attrs = g.nodes[node]
            if attrs["definition"] is None:
                continue
            kind = "loss" if node == ctx.root else "forward"
            label = "the loss" if kind == "loss" else str(attrs["symbol"])
            self._add(Quantity(str(attrs["symbol"]), attrs["symbol"], kind, node, label,
                               template=attrs["definition"], formula=attrs["definition"]))
        self._add_loss_parts()
        for key, d in ctx.derivation.deltas.items():
            self._add(Quantity(str(d.symbol), d.symbol, "delta", d.node, f"δ_{key}",
                               formula=self.local(d.node)))
        self.gradient_symbol = {}
        for w in ctx.derivation.gradients:
            sym = sp.Symbol(f"grad__{w}")
            self.gradient_symbol[w] = sym
            self._add(Quantity(f"d{ctx.loss_name}_d{w}", sym, "gradient", w, f"∂{ctx.loss_name}/∂{w}",
                               formula=self.local(w)))
        for node in ctx.order:   # ∂E/∂out_h = Σ_v δ_v·w_hv, the sum backpropagated into an out
            if g.nodes[node]["kind"] == NodeKind.OUT and node in ctx.relevant and node != ctx.root:
                name = f"d{ctx.loss_name}_d{g.nodes[node]['symbol']}"
                self._add(Quantity(name, sp.Symbol(f"adjoint__{node}"), "adjoint", node,
                                   f"∂{ctx.loss_name}/∂{g.nodes[node]['symbol']}", formula=self.local(node)))
        self.update_symbol: dict[sp.Symbol, sp.Symbol] = {}
        eta = ctx.learning_rate
        if eta is not None:
            for p in ctx.spec.parameters:
                if p not in self.gradient_symbol:
                    continue
                sym = sp.Symbol(f"{p}__upd")
                w = ctx.symbol(p)
                self.update_symbol[w] = sym
                self._add(Quantity(f"{p}_new", sym, "update", p, f"new {p}",
                                   formula=w - eta * self.gradient_symbol[p]))
                self._add(Quantity(f"d{p}", sp.Symbol(f"{p}__step"), "step", p, f"the step of {p}",
                                   formula=-eta * self.gradient_symbol[p]))
            self.after_map: dict[sp.Symbol, sp.Symbol] = dict(self.update_symbol)
            forward = [q for q in self._all if q.kind in ("forward", "loss")]
            for q in forward:
                self.after_map[q.symbol] = sp.Symbol(f"{q.symbol}__after")
            for q in forward:
                kind = "after_loss" if q.kind == "loss" else "after"
                self._add(Quantity(f"{q.key}_after", self.after_map[q.symbol], kind, q.node,
                                   f"{q.label} after the step", template=q.template,
                                   formula=q.template.xreplace(self.after_map)))
        self._evaluate_exact()

    def _add(self, q: Quantity) -> None:
        """Add ``q``; its name stays the user's where a spec name already took it (a parameter
        called ``w_TF_new``): that figure can then not be stated, but is still computed."""
        self.quantities.setdefault(q.key, q)
        self.by_symbol[q.symbol] = q
        self._all.append(q)

    def _add_loss_parts(self) -> None:
        """Each output's term of the loss (``E_o1``; ``E_o1__2`` with data) and, with data, each
        example's loss (``E__2``), before regularisation and any 1/N."""
        ctx, spec = self.ctx, self.ctx.spec
        if spec.objective is not None:
            return
        loss = LOSSES.get(spec.loss or "")
        examples = range(1, ctx.examples + 1) if spec.has_data else [None]
        for n in examples:
            sfx = suffix(n)
            if spec.has_data:
                template = ctx.network.example_loss(n)
                self._add(Quantity(f"{ctx.loss_name}{sfx}", sp.Symbol(f"{ctx.loss_name}{sfx}__example"),
                                   "example_loss", None, f"the loss of example {n}", template=template,
                                   formula=template))
            if loss is None:
                continue
            for o in spec.outputs:
                out = sp.Symbol(f"out_{o}{sfx}" if o in spec.neurons else f"{o}{sfx}")
                term = loss.term(out, sp.Symbol(f"t_{o}{sfx}"), len(spec.outputs))
                self._add(Quantity(f"{ctx.loss_name}_{o}{sfx}", sp.Symbol(f"{ctx.loss_name}_{o}{sfx}__term"),
                                   "loss_term", None, f"the loss term of output {o}", template=term, formula=term))

    # -------------------------------------------------------------- formulas
    def local(self, node: str, labels=None, weights: dict | None = None) -> sp.Expr:
        """The one-step rule for ``node``'s δ (a net or expression node) or gradient (a parameter):
        ``Σ_v carried(v)·∂v/∂node`` (:func:`symbackprop.derive.backprop.gather`), successors' δs
        as symbols, outs inlined (as lectures write it); ``weights`` replaces weights by their
        updated values on edges out of non-parameters (the lecture variant)."""
        ctx = self.ctx
        base = graph_label(ctx.network, labels)
        label = base
        if weights:
            def label(u: str, v: str) -> sp.Expr:
                expr = base(u, v)
                return expr if ctx.kind(u) == NodeKind.PARAM else expr.xreplace(weights)

        def carried(v: str) -> sp.Expr:
            if v == ctx.root:
                return sp.Integer(1)
            return self.delta_symbol[v] if v in self.delta_symbol else self.local(v, labels, weights)

        return gather(ctx.network, node, carried, label, ctx.relevant)

    def edges_of(self, node: str) -> set[tuple[str, str]]:
        """The graph edges whose labels appear in ``local(node)``."""
        ctx, g = self.ctx, self.ctx.graph
        out = set()
        for v in g.successors(node):
            if v not in ctx.relevant:
                continue
            out.add((node, v))
            if v != ctx.root and v not in self.delta_symbol:
                out |= self.edges_of(v)
        return out

    def _evaluate_exact(self) -> None:
        values = {}
        point = self.ctx.spec_point()
        for sym, value in point.items():
            values[sym] = float(value)
        for q in self.ordered():
            if q.kind == "leaf":
                q.exact = values[q.symbol]
                continue
            q.program = compile_expr(q.formula)
            v = q.program.evaluate(values, FLOAT)
            q.exact = float("nan") if v is None else float(v)
            values[q.symbol] = v
        self.exact_values = values

    def ordered(self) -> list[Quantity]:
        """Quantities in an order where each comes after what its formula uses."""
        import networkx as nx

        deps = nx.DiGraph()
        index = {q.symbol: i for i, q in enumerate(self._all)}
        deps.add_nodes_from(index.values())
        qs = self._all
        for i, q in enumerate(qs):
            if q.formula is not None:
                for s in q.formula.free_symbols:
                    if s in index:
                        deps.add_edge(index[s], i)
        return [qs[i] for i in nx.lexicographical_topological_sort(deps)]

    # -------------------------------------------------------------- names
    def resolve(self, name: str) -> Quantity | None:
        """The quantity a figure's name means (see the module docstring for the names)."""
        ctx = self.ctx
        name = str(name).strip()
        single = ctx.spec.has_data and ctx.examples == 1
        for candidate in self._spellings(name, single):
            if candidate in self.quantities:
                return self.quantities[candidate]
        return None

    def _spellings(self, name: str, single: bool) -> Iterable[str]:
        ctx = self.ctx
        loss = ctx.loss_name
        aliases = [a for a in LOSS_ALIASES if a not in ctx.user_names]
        forms = [name]
        m = re.fullmatch(r"(.+)_after(__\d+)", name)  # out_z_after__2 → out_z__2_after
        if m:
            forms.append(f"{m.group(1)}{m.group(2)}_after")
        out = []
        for form in forms:
            base, after = (form[:-6], "_after") if form.endswith("_after") else (form, "")
            if base in aliases:
                base = loss
            m = re.fullmatch(r"(?:grad_|d([^\W\d_]\w*?)_d)(.+)", base)
            if m and (base.startswith("grad_") or m.group(1) in aliases or m.group(1) == loss) and not after:
                if m.group(2) in ctx.derivation.gradients:
                    base = f"d{loss}_d{m.group(2)}"
                elif single and f"{m.group(2)}__1" in ctx.derivation.gradients:
                    base = f"d{loss}_d{m.group(2)}__1"
            out.append(base + after)
            if single:
                out.append(f"{base}__1{after}")
        return out

    def display(self, expr: sp.Expr) -> str:
        """``expr`` with the figure names a student writes (``w_TF_new``, ``dE_dw_AT``)."""
        return str(expr.xreplace({s: sp.Symbol(q.key) for s, q in self.by_symbol.items()
                                  if s in expr.free_symbols and str(s) != q.key}))

    def names_help(self) -> str:
        kinds = {}
        for q in self.quantities.values():
            kinds.setdefault(q.kind, q.key)
        return ", ".join(kinds.values())

    # -------------------------------------------------------------- slips at one step
    def variant(self, q: Quantity, change: Change) -> sp.Expr | None:
        """``q``'s formula as ``change`` alters it, or None when the change does not touch this step."""
        step = q.step
        if step is None or step not in change.applies or change.drop_paths:
            return None
        if step == UPDATE:
            if change.update_rule is None:
                return None
            p = self.ctx.symbol(q.node) if q.kind == "update" else 0
            g = self.gradient_symbol[q.node]
            return p + self.ctx.learning_rate * g if change.update_rule == "plus" else p - g
        if change.update_rule is not None:
            return None
        if step in (DELTA, GRADIENT):
            base = q.formula
            if change.updated:
                weights = {w: s for w, s in self.update_symbol.items()}
                formula = self.local(q.node, weights=weights)
            elif change.labels:
                if not set(change.labels) & self.edges_of(q.node):
                    return None
                formula = self.local(q.node, change.labels)
            else:
                formula = base
            formula = change.adjust(formula)
        elif step in (FORWARD, LOSS):
            if change.labels or change.updated:
                return None
            base = q.formula
            formula = q.template
            if change.substitute:
                formula = formula.xreplace(dict(change.substitute))
            if q.kind in ("after", "after_loss"):
                formula = formula.xreplace(self.after_map)
            if change.scale is not None:
                formula = change.scale * formula
        else:
            return None
        if formula == base or any(s not in self.by_symbol for s in formula.free_symbols):
            return None
        return formula

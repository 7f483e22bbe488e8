"""Numeric worked solutions, graded the way markers grade: with error carried forward.

A worked solution lists the student's figures by name, at whatever rounding they used::

    solution:
      net_T: 0.76          # forward pass: net_X, out_X, expression nodes by name
      out_T: 0.68
      E: 0.018             # the loss: its symbol (E, or J if E is a user name), or E / J / C / loss
      delta_F: 0.041       # δ_X = ∂E/∂net_X
      dE_dw_TF: 0.028      # ∂E/∂w: dE_dw, dJ_dw, grad_w
      w_TF_new: 0.27       # after one step w − η·∂E/∂w (needs learning_rate in the spec)
      out_F_after: 0.68    # second forward pass with the new weights: <name>_after, E_after
      w_AT: 0.1            # given values may be copied too (checked like any figure)

With ``data``, per-example names carry the suffix ``__n`` (``out_z__2``, ``out_z__2_after``);
with a single example the suffix may be left out.

**Tolerance.** A figure written with *d* decimals is right when it is within half a unit
of its last decimal (``0.76`` → ±0.005, ``0.0024`` → ±0.00005, ``2.4e-3`` → ±0.00005,
``3.`` → ±0.5) of the exact value. A number without a decimal point (``1``, ``-1``, ``0``,
``2e-3``) is taken as exact: worked solutions write integers where the value is exact (WE-8's
z = 3, WE-10's h = (1, 0)), and "1" for 0.5 is the WE-10 loss without its ½, not rounding.

**Error carried forward.** Every figure is also recomputed from the student's *own*
earlier figures: its formula (the forward definition, the δ rule
``δ_T = δ_F·w_TF·out_T(1 − out_T)``, ``∂E/∂w = δ·out``, ``w − η·∂E/∂w`` …) is evaluated
over every combination of the student's figures it uses, each anywhere within its own
rounding (quantities they did not write are carried through from the ones they did). A
figure that is wrong but agrees with that range is *correct given your earlier figures*.
One that is right but does not follow from them is marked so (the WE-8 lecture: a gradient
with a dropped sign, yet the right update).

**Diagnosis.** For the first real error (wrong even with error carried forward) and every
other wrong figure, each change of the slip catalogue is applied to that step and
recomputed both from the exact values and from the student's figures; the slips that
reproduce the figure within its rounding are named, the one explaining the most wrong
figures first. Otherwise: "no known slip matches".
"""
from __future__ import annotations

import itertools
import math
import random
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import sympy as sp

from ..errors import SpecError
from .answers import SlipMatch
from .context import LOSS_ALIASES, CheckContext
from .evaluate import FLOAT, Program, compile_expr
from .slips import DELTA, FORWARD, GRADIENT, LOSS, SLIPS, UPDATE, Change

NUMBER = re.compile(r"^[+-]?(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?$")
EPSILON = 1e-9
EXACT = 1e-9
MAX_CORNERS = 10


def written_number(text: Any, where: str) -> tuple[float, float, str]:
    """(value, half a unit of the last written decimal, text) of a figure as written."""
    if isinstance(text, bool) or text is None or not isinstance(text, (str, int, float)):
        raise SpecError(f"must be a number, got {type(text).__name__ if text is not None else 'nothing'}",
                        key=where)
    raw = str(text).strip().replace("_", "")
    m = NUMBER.match(raw)
    if not m:
        raise SpecError(f"must be a number as written (e.g. 0.68 or -1.5e-3), got '{raw[:30]}'", key=where)
    decimals = len(m.group(2) or m.group(3) or "")
    exponent = int(m.group(4) or 0)
    value = float(raw)
    if not math.isfinite(value):
        raise SpecError("must be a finite number", key=where)
    if "." not in raw:  # an integer (1, -1, 2e-3) is written as exact, not rounded to a whole unit
        return value, EXACT * max(1.0, abs(value)), raw
    return value, 0.5 * 10.0 ** (exponent - decimals), raw


# ----------------------------------------------------------------------------- the worksheet

@dataclass
class Quantity:
    """One figure a worked solution can contain, with its formula in other figures' symbols."""

    key: str
    symbol: sp.Symbol
    kind: str                      # leaf, forward, loss, delta, gradient, update, after, after_loss
    node: str | None
    label: str
    template: sp.Expr | None = None       # forward/loss: definition in forward symbols
    formula: sp.Expr | None = None        # in worksheet symbols
    exact: float = float("nan")
    program: Program | None = None

    @property
    def step(self) -> str | None:
        return {"forward": FORWARD, "after": FORWARD, "loss": LOSS, "after_loss": LOSS, "delta": DELTA,
                "gradient": GRADIENT, "update": UPDATE}.get(self.kind)


class Worksheet:
    """Every quantity of one training step of a spec, its formula and exact value."""

    def __init__(self, ctx: CheckContext):
        if not ctx.spec.has_values:
            raise SpecError("the spec has no values: a numeric worked solution needs inputs, parameters "
                            "and targets", key="values")
        self.ctx = ctx
        g = ctx.graph
        self.quantities: dict[str, Quantity] = {}
        self.by_symbol: dict[sp.Symbol, Quantity] = {}
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
        for key, d in ctx.derivation.deltas.items():
            self._add(Quantity(str(d.symbol), d.symbol, "delta", d.node, f"δ_{key}",
                               formula=self.local(d.node)))
        self.gradient_symbol = {}
        for w in ctx.derivation.gradients:
            sym = sp.Symbol(f"grad__{w}")
            self.gradient_symbol[w] = sym
            self._add(Quantity(f"d{ctx.loss_name}_d{w}", sym, "gradient", w, f"∂{ctx.loss_name}/∂{w}",
                               formula=self.local(w)))
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
            self.after_map: dict[sp.Symbol, sp.Symbol] = dict(self.update_symbol)
            forward = [q for q in self.quantities.values() if q.kind in ("forward", "loss")]
            for q in forward:
                self.after_map[q.symbol] = sp.Symbol(f"{q.symbol}__after")
            for q in forward:
                kind = "after_loss" if q.kind == "loss" else "after"
                self._add(Quantity(f"{q.key}_after", self.after_map[q.symbol], kind, q.node,
                                   f"{q.label} after the step", template=q.template,
                                   formula=q.template.xreplace(self.after_map)))
        self._evaluate_exact()

    def _add(self, q: Quantity) -> None:
        self.quantities[q.key] = q
        self.by_symbol[q.symbol] = q

    # -------------------------------------------------------------- formulas
    def local(self, node: str, labels=None, weights: dict | None = None) -> sp.Expr:
        """The one-step rule for ``node``'s δ (a net or expression node) or gradient (a parameter):
        ``Σ_v carried(v)·∂v/∂node``, successors' δs as symbols, outs inlined (as lectures write it)."""
        ctx, g = self.ctx, self.ctx.graph
        labels = labels or {}
        terms = []
        for v in g.successors(node):
            if v not in ctx.relevant:
                continue
            label = labels.get((node, v), g.edges[node, v]["derivative"])
            if weights and ctx.kind(node) != "param":
                label = label.xreplace(weights)
            if v == ctx.root:
                carried = sp.Integer(1)
            elif v in self.delta_symbol:
                carried = self.delta_symbol[v]
            else:
                carried = self.local(v, labels, weights)
            terms.append(carried * label)
        return sp.Add(*terms)

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
        index = {q.symbol: i for i, q in enumerate(self.quantities.values())}
        deps.add_nodes_from(index.values())
        qs = list(self.quantities.values())
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
            p = self.ctx.symbol(q.node)
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


# ----------------------------------------------------------------------------- grading

@dataclass
class Figure:
    """One graded figure."""

    name: str                      # as written in the file
    key: str                       # the quantity's canonical name
    label: str
    written: str
    value: float
    tolerance: float
    exact: float
    status: str = "correct"        # correct, carried_forward, wrong
    yours: tuple[float, float] | None = None   # range from the student's own earlier figures
    consistent: bool = True
    uses: list[str] = field(default_factory=list)   # the student's figures it was recomputed from
    slips: list[SlipMatch] = field(default_factory=list)
    note: str = ""
    where: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "correct"

    @property
    def exact_written(self) -> bool:
        """Written without a decimal point, so taken as exact."""
        return self.tolerance <= EXACT * max(1.0, abs(self.value)) * (1 + EPSILON)


@dataclass
class SolutionResult:
    """A graded worked solution."""

    file: str
    title: str
    figures: list[Figure]
    first_error: Figure | None = None
    likely_cause: SlipMatch | None = None
    explains: list[str] = field(default_factory=list)   # other wrong figures the likely cause explains
    summary: str = ""

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.figures)


def _range(program: Program, intervals: dict[sp.Symbol, tuple[float, float]], seed: int = 0
           ) -> tuple[float, float] | None:
    """[min, max] of ``program`` over the box ``intervals`` (corners and centre; random samples
    in high dimension)."""
    symbols = list(program.symbols)
    ranges = [intervals[s] for s in symbols]
    varying = [i for i, (lo, hi) in enumerate(ranges) if hi > lo]
    center = {s: (lo + hi) / 2 for s, (lo, hi) in zip(symbols, ranges)}
    samples = [center]
    if len(varying) <= MAX_CORNERS:
        for corner in itertools.product((0, 1), repeat=len(varying)):
            point = dict(center)
            for bit, i in zip(corner, varying):
                point[symbols[i]] = ranges[i][bit]
            samples.append(point)
    else:
        rng = random.Random(seed)
        for i in varying:
            for bit in (0, 1):
                point = dict(center)
                point[symbols[i]] = ranges[i][bit]
                samples.append(point)
        for _ in range(512):
            samples.append({s: ranges[k][rng.randint(0, 1)] if k in varying else center[s]
                            for k, s in enumerate(symbols)})
    values = [v for v in (program.evaluate(p, FLOAT) for p in samples) if v is not None]
    if not values:
        return None
    return float(min(values)), float(max(values))


def _within(value: float, target: float, tolerance: float) -> bool:
    return abs(value - target) <= tolerance * (1 + EPSILON) + 1e-12


def _in_range(value: float, rng: tuple[float, float] | None, tolerance: float) -> bool:
    if rng is None:
        return False
    lo, hi = rng
    slack = tolerance * (1 + EPSILON) + 1e-12
    return lo - slack <= value <= hi + slack


def grade_solution(ctx: CheckContext, entries: Sequence[tuple[str, Any, str]], *, file: str = "",
                   title: str = "", worksheet: Worksheet | None = None) -> SolutionResult:
    """Grade ``entries`` ((name, value as written, where) in the student's order)."""
    ws = worksheet or Worksheet(ctx)
    written: dict[sp.Symbol, tuple[float, float]] = {}
    figures: list[tuple[Figure, Quantity]] = []
    seen: dict[str, str] = {}
    for name, raw, where in entries:
        q = ws.resolve(name)
        if q is None:
            raise SpecError(f"'{str(name)[:40]}' is not a figure of this network (names such as "
                            f"{ws.names_help()}; see symbackprop check --help)", key=where)
        if q.key in seen:
            raise SpecError(f"'{name}' and '{seen[q.key]}' are the same figure", key=where)
        seen[q.key] = str(name)
        value, tol, text = written_number(raw, where)
        written[q.symbol] = (value - tol, value + tol)
        figures.append((Figure(str(name), q.key, q.label, text, value, tol, q.exact, where=where), q))

    intervals: dict[sp.Symbol, tuple[float, float]] = {}
    for q in ws.ordered():
        if q.symbol in written:
            intervals[q.symbol] = written[q.symbol]
        elif q.kind == "leaf":
            intervals[q.symbol] = (q.exact, q.exact)
        else:
            r = _range(q.program, intervals)
            intervals[q.symbol] = r if r is not None else (float("nan"), float("nan"))

    shown = {q.key: fig.name for fig, q in figures}
    for fig, q in figures:
        fig.status = "correct" if _within(fig.value, q.exact, fig.tolerance) else "wrong"
        if q.kind == "leaf":
            if fig.status == "wrong":
                fig.note = f"the given value is {_fmt(q.exact)}"
            continue
        fig.uses = [shown[k] for k in _written_sources(ws, q, written)]
        fig.yours = _range(q.program, intervals)
        fig.consistent = _in_range(fig.value, fig.yours, fig.tolerance)
        if fig.status == "wrong" and fig.consistent and fig.uses:
            fig.status = "carried_forward"
        if fig.status == "wrong":
            fig.slips = _diagnose(ws, q, fig, intervals)
        elif fig.status == "correct" and not fig.consistent and fig.uses and fig.yours is not None:
            fig.note = (f"right, but it does not follow from your {', '.join(fig.uses)}: with "
                        f"{'them' if len(fig.uses) > 1 else 'it'} it would be {_span(fig.yours)}")
    result = SolutionResult(file, title, [f for f, _ in figures])
    _conclude(result)
    return result


def _written_sources(ws: Worksheet, q: Quantity, written: dict) -> list[str]:
    """The student's figures ``q`` is computed from (through any quantities they did not write)."""
    found, stack, seen = [], list(q.formula.free_symbols), set()
    while stack:
        s = stack.pop()
        if s in seen or s not in ws.by_symbol:
            continue
        seen.add(s)
        dep = ws.by_symbol[s]
        if s in written:
            found.append(dep.key)
        elif dep.formula is not None:
            stack.extend(dep.formula.free_symbols)
    order = {k: i for i, k in enumerate(ws.quantities)}
    return sorted(found, key=lambda k: order[k])


def _diagnose(ws: Worksheet, q: Quantity, fig: Figure, intervals) -> list[SlipMatch]:
    found: dict[str, SlipMatch] = {}
    for slip in SLIPS.values():
        for change in slip.changes(ws.ctx, None):
            formula = ws.variant(q, change)
            if formula is None:
                continue
            program = compile_expr(formula)
            at_exact = program.evaluate(ws.exact_values, FLOAT)
            if at_exact is not None and _within(fig.value, float(at_exact), fig.tolerance):
                how, value = "at the exact values", float(at_exact)
            else:
                rng = _range(program, intervals)
                if not _in_range(fig.value, rng, fig.tolerance):
                    continue
                how, value = "with your own figures", (rng[0] + rng[1]) / 2
            detail = change.detail
            if change.updated:
                used = [ws.by_symbol[u] for w, u in ws.update_symbol.items() if u in formula.free_symbols]
                if used:
                    new = ", ".join(f"{q.key} = {(intervals[q.symbol][0] + intervals[q.symbol][1]) / 2:.6g}"
                                    for q in used)
                    old = ", ".join(f"{q.node} = {ws.exact_values[ws.ctx.symbol(q.node)]:.6g}" for q in used)
                    detail = (f"{fig.name} was propagated through the updated weight"
                              f"{'s' if len(used) > 1 else ''} {new} instead of the old {old}")
            match = SlipMatch(slip.key, slip.title, detail, how, value, ws.display(formula))
            previous = found.get(slip.key)
            if previous is None or (previous.how != "at the exact values" and how == "at the exact values"):
                found[slip.key] = match
    order = list(SLIPS)
    return sorted(found.values(), key=lambda m: (m.how != "at the exact values", order.index(m.key)))


def _conclude(result: SolutionResult) -> None:
    _explain(result)
    unexplained = [f.name for f in result.figures if f.status == "correct" and not f.consistent and f.uses]
    if unexplained:
        verb = "is" if len(unexplained) == 1 else "are"
        result.summary += (f" {', '.join(unexplained)} {verb} right but not computed from your own earlier "
                           "figures.")


def _explain(result: SolutionResult) -> None:
    wrong = [f for f in result.figures if f.status == "wrong"]
    if not wrong:
        carried = [f for f in result.figures if f.status == "carried_forward"]
        result.summary = ("Every figure is right." if not carried else
                          "Every figure is right or follows from your earlier figures.")
        return
    first = wrong[0]
    result.first_error = first
    if not first.slips:
        result.summary = (f"First real error: {first.name} = {first.written} (correct: {_fmt(first.exact)}). "
                          "No known slip matches.")
        return
    score = {m.key: sum(any(s.key == m.key for s in f.slips) for f in wrong) for m in first.slips}
    best = max(first.slips, key=lambda m: (score[m.key], m.how == "at the exact values"))
    best = next(m for m in first.slips if score[m.key] == score[best.key]
                and (m.how == "at the exact values") == (best.how == "at the exact values"))
    result.likely_cause = best
    result.explains = [f.name for f in wrong[1:] if any(s.key == best.key for s in f.slips)]
    for f in wrong:  # the overall likely cause first wherever it fits
        f.slips.sort(key=lambda m: m.key != best.key)
    also = f" It also explains {', '.join(result.explains)}." if result.explains else ""
    result.summary = (f"First real error: {first.name} = {first.written} (correct: {_fmt(first.exact)}). "
                      f"Likely cause: {best.title} — {best.detail}.{also}")


def _fmt(x: float) -> str:
    if x != x:
        return "undefined"
    if x == 0:
        return "0"
    return f"{x:.6f}" if abs(x) >= 1e-3 else f"{x:.6g}"


def _span(r: tuple[float, float]) -> str:
    lo, hi = (0.0 if abs(x) < 1e-8 else x for x in r)   # the ±1e-9 of figures written as exact
    if _fmt(lo) == _fmt(hi):
        return _fmt(lo)
    return f"{_fmt(lo)} … {_fmt(hi)}"

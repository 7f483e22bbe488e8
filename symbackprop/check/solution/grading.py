"""Grading a worked solution figure by figure, with error carried forward and a tolerance from the stated precision."""
from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from typing import Any, Sequence

import sympy as sp

from ...errors import SpecError
from ..answers import SlipMatch
from ..context import CheckContext
from ..evaluate import FLOAT, Program, compile_expr
from ..slips import SLIPS
from .formatting import figure_text, span_text
from .worksheet import EPSILON, EXACT, MAX_CORNERS, Quantity, Worksheet, written_number


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
                fig.note = f"the given value is {figure_text(q.exact)}"
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
                        f"{'them' if len(fig.uses) > 1 else 'it'} it would be {span_text(fig.yours)}")
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
        result.summary = (f"First real error: {first.name} = {first.written} (correct: {figure_text(first.exact)}). "
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
    result.summary = (f"First real error: {first.name} = {first.written} (correct: {figure_text(first.exact)}). "
                      f"Likely cause: {best.title} — {best.detail}.{also}")

"""Grading a worked solution figure by figure: the instructor's tolerance, error carried forward, and the slip that explains a wrong figure."""
from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import sympy as sp

from ...errors import SpecError
from ..answers import SlipMatch
from ..context import CheckContext
from ..evaluate import FLOAT, Program, compile_expr
from ...spec.marking import DEFAULT, Tolerance
from ..slips import SLIPS
from .formatting import figure_text, span_text
from .precision import StatedFigure, a_rounding_of, allowance, is_exact_value, stated_figure, within
from .worksheet import MAX_CORNERS, Quantity, Worksheet


@dataclass
class Figure:
    """One graded figure."""

    name: str                      # as written in the file
    key: str                       # the quantity's canonical name
    label: str
    written: str
    value: float
    tolerance: float               # what the figure is held to: the tighter of stated and policy
    exact: float
    status: str = "correct"        # correct, carried_forward, insufficient_precision, wrong
    stated: float = 0.0            # half a unit in the last written place
    exact_written: bool = False    # written without a decimal point: a claim of the exact value
    rule: str = ""                 # the instructor's rule, in words
    yours: tuple[float, float] | None = None   # range from the student's own earlier figures
    consistent: bool = True
    uses: list[str] = field(default_factory=list)   # the student's figures it was recomputed from
    slips: list[SlipMatch] = field(default_factory=list)
    note: str = ""
    where: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "correct"


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
    rule: str = ""                 # the instructor's default rule, in words

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


def _in_range(value: float, rng: tuple[float, float] | None, tolerance: float) -> bool:
    if rng is None:
        return False
    lo, hi = rng
    return within(value, min(max(value, lo), hi), tolerance)


def grade_solution(ctx: CheckContext, entries: Sequence[tuple[str, Any, str]], *, file: str = "",
                   title: str = "", worksheet: Worksheet | None = None,
                   default: Tolerance = DEFAULT.tolerance,
                   rule_for: Callable[[Quantity], Tolerance] | None = None) -> SolutionResult:
    """Grade ``entries`` ((name, value as written, where) in the student's order).

    Each figure is held to the instructor's rule ``rule_for(quantity)`` (``default`` for all
    when not given) and to its own stated precision, whichever is tighter.
    """
    ws = worksheet or Worksheet(ctx)
    rule_for = rule_for or (lambda q: default)
    written: dict[sp.Symbol, tuple[float, float]] = {}
    figures: list[tuple[Figure, Quantity, StatedFigure, Tolerance, bool]] = []
    seen: dict[str, str] = {}
    for name, raw, where in entries:
        q = ws.resolve(name)
        if q is None:
            raise SpecError(f"'{str(name)[:40]}' is not a figure of this network (names such as "
                            f"{ws.names_help()}; see symbackprop check --help)", key=where)
        if q.key in seen:
            raise SpecError(f"'{name}' and '{seen[q.key]}' are the same figure", key=where)
        seen[q.key] = str(name)
        stated = stated_figure(raw, where)
        rule = rule_for(q)
        held = allowance(stated, q.exact, rule)
        if q.kind != "leaf":  # the givens are the instructor's: recomputed from the exact ones
            # what the student may have used: their figure, within what it is held to
            written[q.symbol] = (stated.value - held.tolerance, stated.value + held.tolerance)
        fig = Figure(str(name), q.key, q.label, stated.text, stated.value, held.tolerance, q.exact, where=where,
                     stated=stated.half_unit, exact_written=stated.exact, rule=held.rule)
        figures.append((fig, q, stated, rule, held.precise_enough))

    intervals: dict[sp.Symbol, tuple[float, float]] = {}
    for q in ws.ordered():
        if q.symbol in written:
            intervals[q.symbol] = written[q.symbol]
        elif q.kind == "leaf":
            intervals[q.symbol] = (q.exact, q.exact)
        else:
            r = _range(q.program, intervals)
            intervals[q.symbol] = r if r is not None else (float("nan"), float("nan"))

    shown = {q.key: fig.name for fig, q, *_ in figures}
    for fig, q, stated, rule, precise in figures:
        right = within(fig.value, q.exact, fig.tolerance) or is_exact_value(stated, q.exact)
        rounded = a_rounding_of(stated, q.exact)   # a true rounding, just too coarse
        fig.status = "correct" if right and precise else "insufficient_precision" if rounded else "wrong"
        if q.kind == "leaf":
            if fig.status == "wrong":
                fig.note = f"the given value is {figure_text(q.exact)}"
            continue
        fig.uses = [shown[k] for k in _written_sources(ws, q, written)]
        fig.yours = _range(q.program, intervals)
        own = None
        if fig.yours is not None:
            own = allowance(stated, (fig.yours[0] + fig.yours[1]) / 2, rule)
            fig.consistent = _in_range(fig.value, fig.yours, own.tolerance if own.enough_digits else fig.stated)
        else:
            fig.consistent = False
        if fig.status == "wrong" and fig.consistent and fig.uses and (
                own.enough_digits or a_rounding_of(stated, (fig.yours[0] + fig.yours[1]) / 2)):
            fig.status = "carried_forward" if own.enough_digits else "insufficient_precision"
        if fig.status == "wrong":
            fig.slips = _diagnose(ws, q, fig, intervals)
        elif fig.status == "correct" and not fig.consistent and fig.uses and fig.yours is not None:
            fig.note = (f"right, but it does not follow from your {', '.join(fig.uses)}: with "
                        f"{'them' if len(fig.uses) > 1 else 'it'}, it would be {span_text(fig.yours)}")
        if fig.status == "insufficient_precision":
            fig.note = f"written to fewer digits than asked for ({fig.rule})"
    result = SolutionResult(file, title, [f for f, *_ in figures], rule=default.describe())
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


ENTRY_KINDS = ("gradient", "step", "update")


def _swapped_entry(ws: Worksheet, q: Quantity, fig: Figure) -> SlipMatch | None:
    """The figure is the value of the index-swapped parameter's same figure (∂E/∂w_ji under w_ij)."""
    partner = ws.ctx.partners.get(q.node or "") if q.kind in ENTRY_KINDS else None
    if partner is None or partner not in ws.ctx.spec.parameters:
        return None
    other = next((r for r in ws.by_symbol.values() if r.kind == q.kind and r.node == partner), None)
    if other is None or not within(fig.value, other.exact, fig.stated) or within(other.exact, q.exact, fig.stated):
        return None
    slip = SLIPS["swapped_entries"]
    return SlipMatch(slip.key, slip.title, f"{fig.name} holds the value of {other.key} ({partner} for {q.node})",
                     "at the exact values", other.exact, other.key)


def _diagnose(ws: Worksheet, q: Quantity, fig: Figure, intervals) -> list[SlipMatch]:
    swapped = _swapped_entry(ws, q, fig)
    found: dict[str, SlipMatch] = {}
    for slip in SLIPS.values():
        for change in slip.changes(ws.ctx, None):
            formula = ws.variant(q, change)
            if formula is None:
                continue
            program = compile_expr(formula)
            at_exact = program.evaluate(ws.exact_values, FLOAT)
            if at_exact is not None and within(fig.value, float(at_exact), fig.stated):
                how, value = "at the exact values", float(at_exact)
            else:
                rng = _range(program, intervals)
                if not _in_range(fig.value, rng, fig.stated):
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
    ranked = sorted(found.values(), key=lambda m: (m.how != "at the exact values", order.index(m.key)))
    return [swapped, *ranked] if swapped is not None else ranked


def _conclude(result: SolutionResult) -> None:
    _explain(result)
    unexplained = [f.name for f in result.figures if f.status == "correct" and not f.consistent and f.uses]
    if unexplained:
        verb = "is" if len(unexplained) == 1 else "are"
        result.summary += (f" {', '.join(unexplained)} {verb} right but not computed from your own earlier "
                           "figures.")


def _explain(result: SolutionResult) -> None:
    wrong = [f for f in result.figures if f.status == "wrong"]
    coarse = [f.name for f in result.figures if f.status == "insufficient_precision"]
    short = (f" {', '.join(coarse)} {'has' if len(coarse) == 1 else 'have'} fewer digits than asked for "
             f"({result.rule})." if coarse else "")
    if not wrong:
        carried = [f for f in result.figures if f.status == "carried_forward"]
        if coarse:
            result.summary = "No figure is wrong." + short
            return
        result.summary = ("Every figure is right." if not carried else
                          "Every figure is right or follows from your earlier figures.")
        return
    first = wrong[0]
    result.first_error = first
    if not first.slips:
        result.summary = (f"First real error: {first.name} = {first.written} (correct: {figure_text(first.exact)}). "
                          "No known slip matches." + short)
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
                      f"Likely cause: {best.title} — {best.detail}.{also}{short}")

"""The check's three outputs: a terminal report, JSON, and LaTeX feedback a marker can paste.

All three read a :class:`~symbackprop.check.checker.CheckReport`; :func:`to_dict` is the
JSON (and what the LaTeX template receives, plus LaTeX of the expressions). Student text
reaches LaTeX only through the ``tex`` escape filter; expressions are printed from their
parsed SymPy form by :func:`symbackprop.latex.to_latex`.
"""
from __future__ import annotations

from typing import Any

import sympy as sp

from ..plaintext import indicator_text
from ..templating import render
from .answers import AnswerResult, SlipMatch
from .checker import CheckReport
from .equivalence import Counterexample
from .solution import Figure, SolutionResult, figure_text, span_text

MARK = {"correct": "✓", "wrong": "✗", "undecided": "?", "carried_forward": "↳", "refused": "✗",
        "insufficient_precision": "~"}
STATUSES = ("correct", "carried_forward", "insufficient_precision", "wrong")



def printable(text: str, limit: int = 120) -> str:
    """User text for a terminal line: control and format characters dropped, newlines as
    spaces, at most ``limit`` characters (an answer file cannot forge report lines)."""
    import unicodedata

    flat = "".join(" " if ch in "\r\n\t" else ch for ch in text
                   if ch in "\r\n\t" or unicodedata.category(ch)[0] != "C")
    flat = " ".join(flat.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"

def _num(x: float | None) -> str:
    if x is None:
        return "undefined"
    if x == 0:
        return "0"
    return f"{x:.6g}"


def _clip(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


# ----------------------------------------------------------------------------- JSON

def _slip_dict(m: SlipMatch) -> dict[str, Any]:
    out: dict[str, Any] = {"slip": m.key, "title": m.title, "detail": m.detail}
    if m.how:
        out["how"] = m.how
    if m.value is not None:
        out["value"] = m.value
    if m.expression is not None:
        out["expression"] = m.expression
    return out


def _counterexample_dict(c: Counterexample) -> dict[str, Any]:
    return {"at_spec_values": c.at_spec_values, "point": c.leaves, "used": c.used,
            "answer": c.answer, "correct": c.correct}


def diagnosis_text(slips: list[SlipMatch]) -> str:
    if not slips:
        return "no known slip matches"
    return "; ".join(f"{m.title}: {m.detail}" for m in slips)


def _answer_dict(a: AnswerResult, ctx) -> dict[str, Any]:
    comparison = a.comparison
    out: dict[str, Any] = {
        "wrt": a.target.key if a.target.kind == "gradient" else a.target.label,
        "quantity": a.target.label, "answer": a.text, "syntax": a.syntax, "parsed": str(a.expression),
        "correct": str(a.target.correct), "verdict": a.verdict, "proof": comparison.proof,
        "points": comparison.points,
    }
    if a.target.condition:
        out["condition"] = a.target.condition
    if a.refused is not None:
        out["refused"] = a.refused
    if comparison.switches:
        out["foreign_switches"] = comparison.switches
        out["uncrossed_switches"] = comparison.uncrossed
    if a.note:
        out["note"] = a.note
    if comparison.counterexample is not None:
        out["counterexample"] = _counterexample_dict(comparison.counterexample)
    if a.verdict == "undecided":
        out["undecided_reason"] = _undecided_reason(a)
    if a.verdict == "wrong":
        out["slips"] = [_slip_dict(m) for m in a.slips]
        out["diagnosis"] = diagnosis_text(a.slips)
    return out


def _figure_dict(f: Figure) -> dict[str, Any]:
    out: dict[str, Any] = {"name": f.name, "quantity": f.key, "written": f.written, "value": f.value,
                           "tolerance": f.tolerance, "stated_tolerance": f.stated, "written_as_exact": f.exact_written,
                           "rule": f.rule, "correct_value": f.exact, "status": f.status}
    if f.yours is not None:
        out["from_your_figures"] = list(f.yours)
        out["uses"] = f.uses
        out["follows_from_your_figures"] = f.consistent
    if f.status == "wrong":
        out["slips"] = [_slip_dict(m) for m in f.slips]
        out["diagnosis"] = diagnosis_text(f.slips[:1] if f.slips else [])
    if f.note:
        out["note"] = f.note
    return out


def _solution_dict(s: SolutionResult) -> dict[str, Any]:
    counts = {k: sum(f.status == k for f in s.figures) for k in STATUSES}
    return {
        "file": s.file, "title": s.title, "ok": s.ok, "counts": counts, "rule": s.rule,
        "figures": [_figure_dict(f) for f in s.figures],
        "first_error": s.first_error.name if s.first_error else None,
        "likely_cause": _slip_dict(s.likely_cause) if s.likely_cause else None,
        "explains": s.explains, "summary": s.summary,
    }


def to_dict(report: CheckReport) -> dict[str, Any]:
    """The JSON result (``--format json``)."""
    out: dict[str, Any] = {"spec": report.spec.name, "ok": report.ok, "notes": list(report.notes)}
    if report.answers:
        out["vocabulary"] = report.policy.vocabulary
        out["seed"] = report.seed
    if report.answers:
        out["answers"] = [_answer_dict(a, report.context) for a in report.answers]
    if report.solutions:
        out["solutions"] = [_solution_dict(s) for s in report.solutions]
    return out


# ----------------------------------------------------------------------------- text

def _counterexample_text(c: Counterexample) -> list[str]:
    where = "at the spec's values" if c.at_spec_values else "at"
    leaves = ", ".join(f"{k} = {_num(v)}" for k, v in c.leaves.items())
    if len(leaves) > 160:
        leaves = leaves[:157] + "…"
    used = ", ".join(f"{k} = {_num(v)}" for k, v in c.used.items())
    lines = [f"counterexample {where} ({leaves})" if c.at_spec_values else f"counterexample at {leaves}"]
    if used:
        lines.append(f"  where {used}" if len(used) <= 200 else f"  where {used[:197]}…")
    lines.append(f"  yours = {_num(c.answer)}, correct = {_num(c.correct)}")
    return lines


def _undecided_reason(a: AnswerResult) -> str:
    if a.note:
        return a.note
    if a.comparison.uncrossed:
        return (f"the answer switches where {', '.join(a.comparison.uncrossed)} changes sign (the derivative does "
                "not), and no test point reached the other side; it is not accepted on numbers alone")
    return "the answer could not be evaluated at enough test points"


def _answer_lines(a: AnswerResult) -> list[str]:
    c = a.comparison
    head = f"{MARK[a.verdict]} {a.target.label}"
    if a.verdict == "correct":
        how = "proved symbolically" if c.proof == "symbolic" else \
            f"equal at {c.points} test points to 25 digits; not proved symbolically"
        lines = [f"{head}   correct ({how})"]
        if c.switches:
            lines.append(f"    note: the answer switches where {', '.join(c.switches)} changes sign; the derivative "
                         "does not (equal on both sides at the test points)")
        if a.target.condition:
            lines.append(f"    (given {a.target.condition})")
        return lines
    if a.verdict == "refused":
        return [f"{head}   refused: {a.refused}", f"    yours:   {_clip(a.text)}"]
    if a.verdict == "undecided":
        return [f"{head}   undecided: {_undecided_reason(a)}", f"    yours:   {_clip(a.text)}"]
    lines = [f"{head}   wrong", f"    yours:   {_clip(a.text)}", f"    correct: {a.target.correct}"]
    if c.counterexample is not None:
        lines += ["    " + line for line in _counterexample_text(c.counterexample)]
    if a.slips:
        for m in a.slips:
            lines.append(f"    diagnosis: {m.title} — {m.detail}")
    else:
        lines.append(f"    diagnosis: {a.note or 'no known slip matches'}")
    return lines


def _figure_lines(f: Figure, width: int) -> list[str]:
    head = f"{MARK[f.status]} {f.name:<{width}}  {f.written:<9}"
    exact = f"{figure_text(f.exact)}, written as exact" if f.exact_written else f"{figure_text(f.exact)} ± {f.tolerance:g}"
    if f.status == "correct":
        lines = [f"{head} correct ({exact})"]
    elif f.status == "insufficient_precision":
        lines = [f"{head} insufficient precision: the exact value is {figure_text(f.exact)}"]
    elif f.status == "carried_forward":
        lines = [f"{head} correct given your {', '.join(f.uses)} (error carried forward); "
                 f"the exact value is {figure_text(f.exact)}"]
    else:
        yours = f"; from your own figures {span_text(f.yours)}" if f.yours is not None and f.uses else ""
        lines = [f"{head} wrong: the correct value is {figure_text(f.exact)}{yours}"]
        if f.slips:
            for i, m in enumerate(f.slips):
                label = "likely cause" if i == 0 else "also fits"
                value = f" = {figure_text(m.value)}" if m.value is not None else ""
                formula = f" ({m.expression}{value}, {m.how})" if m.expression else ""
                lines.append(f"      {label}: {m.title} — {m.detail}{formula}")
        else:
            lines.append("      no known slip matches")
    if f.note:
        lines.append(f"      {f.note}")
    return lines


def text_report(report: CheckReport) -> str:
    """The terminal report (``--format text``): one line per item with ✓/✗, details indented."""
    lines = [f"symbackprop check: {report.spec.name}"]
    for note in report.notes:
        lines.append(f"Note: {note}")
    if report.answers:
        lines.append("")
        lines.append(f"Answers ({len(report.answers)}; test points with --seed {report.seed})")
        for a in report.answers:
            lines += ["  " + line for line in _answer_lines(a)]
    for s in report.solutions:
        lines.append("")
        title = f" — {printable(s.title)}" if s.title else ""
        lines.append(f"Worked solution {s.file}{title} ({len(s.figures)} figures)")
        lines.append(f"  Each figure: {s.rule}")
        width = max(len(f.name) for f in s.figures)
        for f in s.figures:
            lines += ["  " + line for line in _figure_lines(f, width)]
        lines.append("")
        lines.append("  " + s.summary)
    lines.append("")
    lines.append(_summary_line(report))
    return indicator_text("\n".join(lines)) + "\n"


def _summary_line(report: CheckReport) -> str:
    parts = []
    if report.answers:
        right = sum(a.ok for a in report.answers)
        parts.append(f"{right} of {len(report.answers)} answer{'s' if len(report.answers) != 1 else ''} correct")
    for s in report.solutions:
        counts = {k: sum(f.status == k for f in s.figures) for k in STATUSES}
        text = f"{counts['correct']} of {len(s.figures)} figures right"
        if counts["carried_forward"]:
            text += f", {counts['carried_forward']} correct given earlier figures"
        if counts["insufficient_precision"]:
            text += f", {counts['insufficient_precision']} with too few digits"
        if counts["wrong"]:
            text += f", {counts['wrong']} wrong"
        parts.append(text)
    verdict = "everything is right" if report.ok else "something is wrong"
    return f"Result: {'; '.join(parts)} — {verdict}."


# ----------------------------------------------------------------------------- LaTeX

def latex_report(report: CheckReport) -> str:
    """A complete LaTeX document with the feedback (``--format latex``); the part between the
    ``feedback begins``/``ends`` comments is the piece to paste into another document."""
    from ..latex import to_latex

    data = to_dict(report)
    for item, a in zip(data.get("answers", []), report.answers):
        item["quantity_tex"] = _quantity_tex(a, to_latex)
        item["parsed_tex"] = to_latex(a.expression)
        item["correct_tex"] = to_latex(a.target.correct)
        item["mark"] = a.verdict
        if a.comparison.counterexample is not None:
            c = a.comparison.counterexample
            item["counterexample_text"] = (
                ("at the spec's values " if c.at_spec_values else "at ")
                + ", ".join(f"{k} = {_num(v)}" for k, v in list(c.leaves.items())[:12])
                + (", …" if len(c.leaves) > 12 else "")
                + f": yours = {_num(c.answer)}, correct = {_num(c.correct)}")
    for item, s in zip(data.get("solutions", []), report.solutions):
        for fig, f in zip(item["figures"], s.figures):
            fig["exact_text"] = figure_text(f.exact)
            fig["yours_text"] = span_text(f.yours) if f.yours is not None and f.uses else ""
            fig["uses_text"] = ", ".join(f.uses)
            fig["slip_lines"] = [f"{m.title}: {m.detail}" + (f" (gives {figure_text(m.value)}, {m.how})"
                                                              if m.value is not None else "")
                                 for m in f.slips]
        item["result_line"] = s.summary
    return render("check.tex.j2", report=data, result_line=_summary_line(report))


def _quantity_tex(a: AnswerResult, to_latex) -> str:
    t = a.target
    if t.kind == "delta":
        return to_latex(sp.Symbol(t.label))
    loss = sp.Symbol(t.label.split("/")[0][1:])
    return rf"\frac{{\partial {to_latex(loss)}}}{{\partial {to_latex(sp.Symbol(t.key))}}}"

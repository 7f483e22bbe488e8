"""Exam documents: the problem sheet and solution of one variant, and the list of variants for the marker."""
from __future__ import annotations

from typing import Any, Sequence

import sympy as sp

from ..derive import Derivation
from ..latex import latex_name
from .front import document_front, network_context
from .solution import Numbers, edge_values, given_tables, solution_context
from .texmath import Digits, fmt, fmt_given, precision_words
from .view import View, forward_rows, loss_rows


def exam_contexts(d: Derivation, digits: Digits = 6, *, variant: int | None = None,
                  seed: int | None = None) -> tuple[dict, dict]:
    """The problem sheet and its matching solution (same network, same values)."""
    Numbers(d, digits)  # an exam needs numbers: a clear error otherwise
    view = View(d)
    spec = view.spec
    tag = "" if variant is None else f"Variant {variant:02d}"
    loss_word = "the objective" if spec.objective is not None else "the loss"
    parts = []
    if spec.neurons:
        parts.append("net and out of every neuron")
    if spec.nodes:
        parts.append("the value of every node")
    texts = [
        "Forward pass: compute " + " and ".join(parts) + (f", and {loss_word}." if spec.objective is None else "."),
        ("Backward pass: compute the error δ = ∂E/∂net of every neuron, output layer first"
         if spec.neurons else "Backward pass: compute the derivative of the objective with respect to every node")
        + (" (and ∂E/∂v of every node)." if spec.neurons and spec.nodes else ".")
        + (" As in the lecture, propagate the hidden errors through the output weights after their "
           "update." if d.is_variant else ""),
        f"Gradients: compute the derivative of {loss_word} with respect to",
    ]
    if spec.learning_rate is not None:
        texts.append(f"Update: take one gradient-descent step with learning rate "
                         f"{fmt_given(spec.learning_rate, digits)}, give the new value of every parameter, "
                         f"repeat the forward pass with them and compare {loss_word} before and after.")
    wrt = ", ".join(f"${latex_name(p)}$" for p in d.gradients)
    questions = [{"text": t, "math": wrt + "." if i == 2 else ""} for i, t in enumerate(texts)]
    doc = document_front(d, "Exercise" + (f" — {tag}" if tag else ""))
    doc["description"] = ""
    doc["remarks"] = []
    problem = {
        "doc": doc,
        "network": network_context(view, edge_values(view, digits)),
        "given": given_tables(view, digits),
        "loss": loss_rows(view),
        "forward": forward_rows(view),
        "questions": questions,
        "digits": digits,
        "precision": precision_words(digits),
        "generic": view.generic,
    }
    solution = solution_context(d, digits)
    solution["doc"]["kind"] = "Solution" + (f" — {tag}" + ("" if seed is None else f" (seed {seed})") if tag else "")
    solution["questions"] = questions
    return problem, solution


def contents_context(spec, variants: Sequence[Any], files: Sequence[tuple[str, str]], seed: int,
                     digits: Digits = 6) -> dict:
    """The list of exam variants: files, drawn values and key figures (for the marker)."""
    ranges = []
    names = {"params": "Parameters", "inputs": "Inputs", "targets": "Targets"}
    for group, body in (spec.randomize or {}).items():
        if group in names and isinstance(body, dict):
            ranges.append({"what": names[group], "low": fmt_given(sp.Rational(str(body["low"])), 6),
                           "high": fmt_given(sp.Rational(str(body["high"])), 6),
                           "step": fmt_given(sp.Rational(str(body["step"])), 6)})
    rows = []
    has_after = False
    for v, (problem, solution) in zip(variants, files):
        d = v.derivation
        values = ", ".join(f"${latex_name(k)} = {fmt_given(sp.Rational(str(x)), digits)}$" for k, x in v.drawn.items())
        after = ""
        if d.numbers.forward_after is not None:
            after = fmt(d.numbers.forward_after[d.loss_name], digits)
            has_after = True
        rows.append({"number": f"{v.number:02d}", "problem": problem, "solution": solution, "drawn": values,
                     "loss": fmt(d.numbers.forward[d.loss_name], digits), "loss_after": after})
    doc = {"name": spec.name, "title": spec.title or spec.name, "kind": "Exam variants", "tagline": "",
           "description": "", "remarks": [], "subtitle": spec.subtitle, "course": spec.course,
           "sheet": spec.sheet, "notes": [], "edition": "instructor"}
    loss = variants[0].derivation.loss_name if variants else "E"
    return {"doc": doc, "variants": rows, "count": len(rows), "seed": seed, "ranges": ranges,
            "has_after": has_after, "loss_symbol": latex_name(loss)}

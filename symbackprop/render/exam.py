"""Exam documents: the problem sheet and solution of one variant (an exam book repeats them per variant)."""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from ..derive import Derivation
from ..latex import latex_name
from .front import document_front, network_context
from .solution import Numbers, edge_values, given_tables, solution_context
from .texmath import Digits, fmt_given, precision_words
from .view import View, forward_rows, loss_rows


QUESTION_ORDER = ("forward", "deltas", "gradients", "update", "second_pass", "loss_after")


def _question_texts(d: Derivation, view: View, digits: Digits) -> dict[str, Callable[[Sequence[str]], tuple[str, str]]]:
    """Question name → ``(text, math)`` given the parameters it is about (empty: all)."""
    spec = view.spec
    loss_word = "the objective" if spec.objective is not None else "the loss"
    parts = []
    if spec.neurons:
        parts.append("net and out of every neuron")
    if spec.nodes:
        parts.append("the value of every node")
    forward = "Forward pass: compute " + " and ".join(parts) + (f", and {loss_word}." if spec.objective is None else ".")
    backward = (("Backward pass: compute the error δ = ∂E/∂net of every neuron, output layer first"
                 if spec.neurons else "Backward pass: compute the derivative of the objective with respect to every node")
                + (" (and ∂E/∂v of every node)." if spec.neurons and spec.nodes else ".")
                + (" As in the lecture, propagate the hidden errors through the output weights after their "
                   "update." if d.is_variant else ""))

    def names(only: Sequence[str]) -> str:
        return ", ".join(f"${latex_name(p)}$" for p in (only or d.gradients)) + "."

    lr = fmt_given(spec.learning_rate, digits) if spec.learning_rate is not None else ""
    return {
        "forward": lambda only: (forward, ""),
        "deltas": lambda only: (backward, ""),
        "gradients": lambda only: (f"Gradients: compute the derivative of {loss_word} with respect to", names(only)),
        "update": lambda only: (f"Update: take one gradient-descent step with learning rate {lr} and give the "
                                "new value of", names(only)),
        "second_pass": lambda only: ("Second forward pass: repeat the forward pass with the new values.", ""),
        "loss_after": lambda only: (f"Loss after the step: compute {loss_word} with the new values and compare "
                                    "it with its value before the step.", ""),
        # the spec's own exercise (no question list) asks the whole step as one question
        "step": lambda only: (f"Update: take one gradient-descent step with learning rate {lr}, give the new "
                              f"value of every parameter, repeat the forward pass with them and compare "
                              f"{loss_word} before and after.", ""),
    }


def answer_lines(figures: int) -> int:
    """Ruled answer lines under a question asking for ``figures`` numbers (3 to 14)."""
    return max(3, min(14, figures + 3))


def exam_contexts(d: Derivation, digits: Digits = 6, *, variant: int | None = None,
                  seed: int | None = None, questions: Sequence[Mapping[str, Any]] | None = None,
                  student: str | None = None, title: str | None = None, width: int = 2) -> tuple[dict, dict]:
    """The problem sheet and its matching solution (same network, same values).

    ``questions`` are ``{"name", "only", "marks", "figures"}`` in exam order (None: the forward
    and backward pass, the gradients and, with a learning rate, the step); ``student`` the ID
    printed in the header and the ID field; ``title`` heads both sheets instead of the spec's.
    """
    Numbers(d, digits)  # an exam needs numbers: a clear error otherwise
    view = View(d)
    spec = view.spec
    texts = _question_texts(d, view, digits)
    if questions is None:
        names = [*QUESTION_ORDER[:3], *(["step"] if spec.learning_rate is not None else [])]
        chosen = [{"name": n, "only": [], "marks": None, "figures": 0} for n in names]
    else:
        chosen = [dict(q) for q in questions]
    rows = []
    for q in chosen:
        text, math = texts[q["name"]](q.get("only") or [])
        marks = q.get("marks")
        rows.append({"text": text, "math": math, "name": q["name"],
                     "marks": "" if marks is None else _marks_words(marks),
                     "lines": answer_lines(q.get("figures") or 0)})
    tag = "" if variant is None else f"Variant {variant:0{width}d}"
    doc = document_front(d, "Exercise" + (f" — {tag}" if tag else ""))
    doc["description"] = ""
    doc["remarks"] = []
    if title:
        doc["title"], doc["subtitle"] = title, ""
    problem = {
        "doc": doc,
        "network": network_context(view, edge_values(view, digits)),
        "given": given_tables(view, digits),
        "loss": loss_rows(view),
        "forward": forward_rows(view),
        "questions": rows,
        "answer_space": questions is not None,
        "student": student or "",
        "total": _marks_words(sum(q["marks"] for q in chosen)) if all(q.get("marks") is not None for q in chosen)
        else "",
        "digits": digits,
        "precision": precision_words(digits),
        "generic": view.generic,
    }
    solution = solution_context(d, digits)
    if title:
        solution["doc"]["title"], solution["doc"]["subtitle"] = title, ""
    who = f"{student} — " if student else ""
    solution["doc"]["kind"] = "Solution" + (f" — {who}{tag}" + ("" if seed is None else f" (seed {seed})") if tag else "")
    solution["questions"] = rows
    problem["header"] = solution["header"] = (f"{student} · {tag}" if student else tag)
    return problem, solution


def _marks_words(marks: float) -> str:
    value = int(marks) if float(marks).is_integer() else marks
    return f"{value} mark{'' if value == 1 else 's'}"

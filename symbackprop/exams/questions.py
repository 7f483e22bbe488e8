"""The questions an exam can ask, each a list of named figures read from a variant's Derivation.

A question's figures carry the names a worked-solution file uses (the checker's Worksheet keys):
``net_T``/``out_T``/``E`` (forward), ``delta_F`` (deltas), ``dE_dw_AT`` (gradients),
``w_TF_new`` (update), ``net_T_after`` (second_pass), ``E_after`` (loss_after). Nothing here
computes a number: every value is one of ``d.numbers``.

>>> from symbackprop import derive, load_spec
>>> d = derive(load_spec("examples/we05-221-sigmoid.yaml"))
>>> [q.name for q in asked(d, None)]
['forward', 'deltas', 'gradients', 'update', 'second_pass', 'loss_after']
>>> sel = asked(d, "gradients:w_AT,w_TF,update")
>>> [(q.name, [a for a, _ in q.figures(d)]) for q in sel]
[('gradients', ['dE_dw_AT', 'dE_dw_TF']), ('update', ['w_AT_new', 'w_TF_new'])]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from ..derive import Derivation
from ..errors import SpecError


def loss_symbol(d: Derivation) -> str:
    """The loss as a worked solution names it (``E``)."""
    return str(d.network.graph.nodes[d.network.root]["symbol"])


def _symbol(d: Derivation, node: str) -> str:
    return str(d.network.graph.nodes[node]["symbol"])


def _computed(d: Derivation) -> list[str]:
    """Nodes with a definition (nets, outs, expression nodes, the loss), in forward order."""
    g = d.network.graph
    return [n for n in d.network.order if g.nodes[n]["definition"] is not None]


def _forward(d: Derivation, only: Sequence[str]) -> list[tuple[str, float]]:
    return [(_symbol(d, n), d.numbers.forward[n]) for n in _computed(d)]


def _deltas(d: Derivation, only: Sequence[str]) -> list[tuple[str, float]]:
    return [(str(e.symbol), d.numbers.deltas[k]) for k, e in d.deltas.items()]


def _gradients(d: Derivation, only: Sequence[str]) -> list[tuple[str, float]]:
    loss = loss_symbol(d)
    return [(f"d{loss}_d{w}", d.numbers.gradients[w]) for w in (only or d.gradients)]


def _update(d: Derivation, only: Sequence[str]) -> list[tuple[str, float]]:
    new = d.numbers.updated_params or {}
    return [(f"{w}_new", new[w]) for w in (only or d.gradients) if w in new]


def _second_pass(d: Derivation, only: Sequence[str]) -> list[tuple[str, float]]:
    after = d.numbers.forward_after or {}
    return [(f"{_symbol(d, n)}_after", after[n]) for n in _computed(d)
            if n in after and n != d.network.root]


def _loss_after(d: Derivation, only: Sequence[str]) -> list[tuple[str, float]]:
    after = d.numbers.forward_after or {}
    root = d.network.root
    return [(f"{loss_symbol(d)}_after", after[root])] if root in after else []


def _has_step(d: Derivation) -> bool:
    return d.numbers is not None and d.numbers.forward_after is not None


@dataclass(frozen=True)
class Question:
    """One question: its name, title, the figures it asks (``figures(d)``) and whether ``d`` has them."""

    name: str
    title: str
    collect: Callable[[Derivation, Sequence[str]], list[tuple[str, float]]]
    fits: Callable[[Derivation], bool]
    only: tuple[str, ...] = field(default_factory=tuple)   # gradients/update: these parameters only

    def figures(self, d: Derivation) -> list[tuple[str, float]]:
        """``(answer name, value)`` for every figure asked, in exam order."""
        return self.collect(d, self.only)

    @property
    def selection(self) -> str:
        """The question as ``--questions`` writes it (``gradients:w_AT,w_TF``)."""
        return self.name + (":" + ",".join(self.only) if self.only else "")


QUESTIONS: dict[str, Question] = {q.name: q for q in (
    Question("forward", "Forward pass", _forward, lambda d: d.numbers is not None),
    Question("deltas", "Backward pass: the errors δ", _deltas, lambda d: bool(d.deltas)),
    Question("gradients", "Gradients", _gradients, lambda d: bool(d.gradients)),
    Question("update", "Gradient-descent step", _update, _has_step),
    Question("second_pass", "Second forward pass", _second_pass, _has_step),
    Question("loss_after", "Loss after the step", _loss_after, _has_step),
)}
"""The question registry, in exam order. ``gradients`` and ``update`` take a parameter list."""

SELECTABLE = ("gradients", "update")


def parse_questions(text: str | Iterable[str], parameters: Sequence[str]) -> list[Question]:
    """``forward,gradients:w_AT,w_TF,update`` (or a list of such items) as questions in exam order.

    A name after ``gradients:``/``update:`` that is not a question name is one more parameter;
    ``update`` without a list steps the parameters ``gradients`` asks about.
    """
    items = text.split(",") if isinstance(text, str) else [p for t in text for p in str(t).split(",")]
    chosen: dict[str, list[str]] = {}
    current: str | None = None
    for item in (i.strip() for i in items):
        if not item:
            continue
        name, _, first = item.partition(":")
        if name in QUESTIONS:
            chosen.setdefault(name, [])
            current = name
            if first:
                if name not in SELECTABLE:
                    raise SpecError(f"'{name}' takes no parameter list (only {', '.join(SELECTABLE)} do)",
                                    key="questions")
                chosen[name].append(first)
            continue
        if current in SELECTABLE and chosen[current] and not _:
            chosen[current].append(item)
            continue
        raise SpecError(f"unknown question '{item[:40]}' (known: {', '.join(QUESTIONS)})", key="questions")
    for name, only in chosen.items():
        for p in only:
            if p not in parameters:
                raise SpecError(f"'{p[:40]}' is not a parameter of the spec", key=f"questions.{name}")
    if not chosen:
        raise SpecError("name at least one question", key="questions")
    if "update" in chosen and not chosen["update"]:   # the step of the parameters asked about
        chosen["update"] = chosen.get("gradients", [])
    from dataclasses import replace

    return [replace(QUESTIONS[n], only=tuple(dict.fromkeys(chosen[n]))) for n in QUESTIONS if n in chosen]


def asked(d: Derivation, selection: str | Iterable[str] | None) -> list[Question]:
    """The questions of ``selection`` (default: every question ``d`` fits) that ``d`` can answer."""
    if selection is None:
        return [q for q in QUESTIONS.values() if q.fits(d) and q.figures(d)]
    questions = parse_questions(selection, d.spec.parameters)
    for q in questions:
        if not q.fits(d):
            raise SpecError(f"this spec cannot ask '{q.name}'"
                            + (" (it needs a learning_rate)" if q.collect in (_update, _second_pass, _loss_after)
                               else ""), key="questions")
    return questions

"""The rules that reject a drawn variant whose numbers do not serve an exam (and it is drawn again).

Each rule is on by default; a spec switches one off with ``randomize: {allow: [name]}``.
A rule reads the variant's Derivation and the questions asked, never computes a gradient.

>>> list(RULES)
['not_finite', 'kink', 'saturated', 'zero_value', 'zero_gradient', 'loss_not_lowered', 'variant_like_true', 'duplicate']
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from ..derive import Derivation
from ..derive.kinks import kink_warnings
from .figures import half_unit, shown

KINK_TOLERANCE = 1e-9
"""An argument this near (relative; absolute at 0) a switch point counts as at it."""
SATURATION = {"sigmoid": 4.0, "tanh": 2.0}
"""|net| above which a unit is saturated (σ′ < 0.018, tanh′ < 0.071)."""
ZERO_GRADIENT = 1e-6
"""An asked gradient smaller than this in size is (practically) zero."""


@dataclass(frozen=True)
class Candidate:
    """One drawn variant under test: its derivation, the values drawn (leaf name → value), the
    parameters whose gradients are asked, whether the step is asked, and the significant figures."""

    derivation: Derivation
    drawn: Mapping[str, float]
    targets: frozenset[str]        # the drawn names that are targets (a target of 0 is fine)
    asked_gradients: Sequence[str]
    asks_step: bool
    sig: int


@dataclass(frozen=True)
class Rule:
    """A named rule: ``test(candidate)`` says why the variant is rejected, or None."""

    name: str
    words: str
    test: Callable[[Candidate], "str | None"]


def _not_finite(c: Candidate) -> str | None:
    n = c.derivation.numbers
    if n is None:
        return "it has no numbers"
    values = [*n.forward.values(), *n.gradients.values(), *(n.forward_after or {}).values()]
    if any(not math.isfinite(v) for v in values):
        return "a value is not finite"
    return None


def _kink(c: Candidate) -> str | None:
    d = c.derivation
    found = kink_warnings(d.network, d.numbers.forward, KINK_TOLERANCE)
    return found[0]["message"] if found else None


def _saturated(c: Candidate) -> str | None:
    d = c.derivation
    g = d.network.graph
    for node, value in d.numbers.forward.items():
        if node in g and g.nodes[node]["kind"] == "net":
            activation = d.spec.neurons[g.nodes[node]["owner"]].activation
            if activation in SATURATION and abs(value) > SATURATION[activation]:
                return f"{activation} saturated ({node} = {value:.3g})"
    return None


def _zero_value(c: Candidate) -> str | None:
    for name, value in c.drawn.items():
        if value == 0 and name not in c.targets:
            return f"{name} = 0 cuts every path through it"
    return None


def _zero_gradient(c: Candidate) -> str | None:
    g = c.derivation.numbers.gradients
    for w in c.asked_gradients:
        if abs(g[w]) < ZERO_GRADIENT:
            return f"∂E/∂{w} = {g[w]:.3g} is (practically) zero"
    return None


def _loss_not_lowered(c: Candidate) -> str | None:
    d = c.derivation
    after = d.numbers.forward_after
    if not c.asks_step or after is None:
        return None
    before, later = d.numbers.forward[d.loss_name], after[d.network.root]
    if later >= before or shown(later, c.sig) == shown(before, c.sig):
        return f"the step does not lower the loss ({shown(before, c.sig)} → {shown(later, c.sig)})"
    return None


def _variant_like_true(c: Candidate) -> str | None:
    d = c.derivation
    if not d.is_variant or not c.asked_gradients:
        return None
    lecture, true = d.numbers.gradients, d.true.numbers.gradients
    if all(abs(lecture[w] - true[w]) <= half_unit(true[w], c.sig) for w in c.asked_gradients):
        return "the lecture's variant equals the true gradient to the figures shown"
    return None


def _duplicate(c: Candidate) -> str | None:
    return None   # decided by the drawing loop, which knows the variants before this one


RULES: dict[str, Rule] = {r.name: r for r in (
    Rule("not_finite", "a value that is not a finite number (log of 0, an overflow)", _not_finite),
    Rule("kink", "a ReLU, leaky ReLU or abs argument within 1e-9 of 0, or max/min arguments within "
                 "1e-9 of a tie: the derivative does not exist there", _kink),
    Rule("saturated", "a saturated unit: a sigmoid with net beyond ±4 or a tanh beyond ±2", _saturated),
    Rule("zero_value", "a drawn weight or input of 0 (every path through it is 0)", _zero_value),
    Rule("zero_gradient", "an asked gradient smaller than 1e-6 in size", _zero_gradient),
    Rule("loss_not_lowered", "when the step is asked: a step that does not lower the loss to the "
                             "figures shown", _loss_not_lowered),
    Rule("variant_like_true", "with backprop_weights: updated, the lecture's variant equal to the true "
                              "gradient to the figures shown (the exam could not tell them apart)", _variant_like_true),
    Rule("duplicate", "the same values as an earlier variant", _duplicate),
)}
"""The rules, in the order they are tried (the first that fires names the rejection)."""


def rejections(c: Candidate, allow: frozenset[str] = frozenset(), *, every: bool = False) -> list[tuple[str, str]]:
    """``(rule, reason)`` of the rules that reject ``c`` (the first only, unless ``every``);
    ``not_finite`` stops the others, which need finite numbers."""
    out = []
    for rule in RULES.values():
        if rule.name in allow and rule.name != "not_finite":
            continue
        reason = rule.test(c)
        if reason:
            out.append((rule.name, reason))
            if rule.name == "not_finite" or not every:
                break
    return out

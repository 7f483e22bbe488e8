"""Randomised exam variants: values drawn by the spec's plan (:mod:`.randomize`), each draw
held to the rules (:mod:`.rules`) and drawn again until it passes; deterministic for a seed.

Variant ``k`` of seed ``s`` draws from ``random.Random("symbackprop:s:k")``, so it does not
depend on how many variants are made; a roster's variant for student ``ID`` draws from
``"symbackprop:s:id:ID"``, so it does not change when the roster grows. A repeated set of
values (the ``duplicate`` rule) is judged against the variants before it, in order.

>>> from symbackprop import load_spec
>>> spec = load_spec("examples/we05-221-sigmoid.yaml")
>>> vs = draw_variants(spec, 2, seed=7)
>>> [v.number for v in vs], vs[0].derivation.warnings
([1, 2], [])
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Sequence

from ..derive import Derivation, derive
from ..errors import SpecError
from ..expressions import ExpressionError
from ..spec import Spec, spec_from_mapping
from .questions import asked
from .randomize import DrawPlan, draw_plan
from .rules import RULES, Candidate, rejections

MAX_ATTEMPTS = 1000
MAX_VARIANTS = 1000
STEP_QUESTIONS = ("update", "second_pass", "loss_after")


@dataclass(frozen=True)
class Variant:
    """One drawn variant: its number, its spec and derivation, the values drawn, and the student
    ID it was drawn for (None without a roster)."""

    number: int
    spec: Spec
    derivation: Derivation
    drawn: dict[str, Any]
    id: str | None = None
    targets: frozenset[str] = frozenset()   # which drawn names are targets


@dataclass
class DrawLog:
    """What drawing did: attempts, and how often each rule fired (every rule tried on every
    attempt when ``every``, else the first that rejected it)."""

    every: bool = False
    attempts: int = 0
    fired: Counter = field(default_factory=Counter)


def degenerate(d: Derivation, *, allow_kink: bool = False, sig: int = 3) -> str | None:
    """Why ``d``'s numbers would be rejected as an exam variant asking everything (None: fine).

    >>> from symbackprop import load_spec
    >>> degenerate(derive(load_spec("examples/we10-relu-one-step.yaml")))[:26]
    'node out_h2: relu at its k'
    """
    if d.numbers is None:
        return "it has no numbers"
    params, asks_step = asked_of(d, None)
    found = rejections(Candidate(d, {}, frozenset(), params, asks_step, sig),
                       frozenset({"kink"}) if allow_kink else frozenset())
    return found[0][1] if found else None


def asked_of(d: Derivation, questions: str | Iterable[str] | None) -> tuple[list[str], bool]:
    """The parameters whose gradients (or steps) ``questions`` ask about, and whether the step is asked."""
    chosen = asked(d, questions)
    params: list[str] = []
    for q in chosen:
        if q.name in ("gradients", "update"):
            params += list(q.only or d.gradients)
    return list(dict.fromkeys(params)), any(q.name in STEP_QUESTIONS for q in chosen)


def _attempt(plan: DrawPlan, rng: random.Random, method: str, questions, sig: int,
             seen: set, tried: dict, log: DrawLog) -> tuple[Variant | None, str, str]:
    """One draw: the variant (None when rejected), and the rule and reason that rejected it.
    ``tried`` remembers this variant's rejected draws (a draw met again is not derived again)."""
    spec = plan.spec
    raw, drawn, targets = plan.draw(rng)
    log.attempts += 1
    key = tuple(sorted(drawn.items()))
    if key in tried:
        log.fired[tried[key][0]] += 1
        return None, *tried[key]
    if key in seen and "duplicate" not in plan.allow and not log.every:
        log.fired["duplicate"] += 1
        return None, "duplicate", "the same values as an earlier variant"
    try:
        new_spec = spec_from_mapping(raw, file=spec.file)
        d = derive(new_spec, method)
    except SpecError as exc:
        if not (exc.key and exc.key.startswith(("values", "data"))):
            raise
        if "missing value" in exc.message:
            raise SpecError(f"{exc.message}: give them in 'values' or draw them too", key="randomize") from None
        log.fired["not_finite"] += 1
        tried[key] = ("not_finite", exc.message)
        return None, "not_finite", exc.message
    except (ExpressionError, ZeroDivisionError, OverflowError, ValueError) as exc:
        log.fired["not_finite"] += 1
        tried[key] = ("not_finite", str(exc))
        return None, "not_finite", str(exc)
    if d.numbers is None:
        raise SpecError("exam variants need numbers: give the spec values (or draw them)", key="values")
    params, asks_step = asked_of(d, questions)
    found = rejections(Candidate(d, drawn, targets, params, asks_step, sig), plan.allow, every=log.every)
    if key in seen and "duplicate" not in plan.allow:
        found.append(("duplicate", "the same values as an earlier variant"))
    for rule, _ in found:
        log.fired[rule] += 1
    if found:
        tried[key] = found[0]
        return None, found[0][0], found[0][1]
    seen.add(key)
    return Variant(0, new_spec, d, drawn, targets=targets), "", ""


def draw_variants(spec: Spec, count: int | None = None, seed: int = 0, *, ids: Sequence[str] | None = None,
                  method: str = "backprop", questions: str | Iterable[str] | None = None, sig: int = 3,
                  log: DrawLog | None = None, plan: DrawPlan | None = None) -> list[Variant]:
    """``count`` variants (or one per student of ``ids``) of ``spec`` that pass every rule.

    ``questions`` (a ``--questions`` selection, None: all that fit) and ``sig`` tell the rules
    what is asked and to how many figures; ``log`` collects what drawing did.
    """
    if ids is None:
        if count is None or not 1 <= count <= MAX_VARIANTS:
            raise SpecError(f"the number of variants must be between 1 and {MAX_VARIANTS}", key="variants")
        seeds = [(k, None, f"symbackprop:{seed}:{k}") for k in range(1, count + 1)]
    else:
        if not 1 <= len(ids) <= 100 * MAX_VARIANTS:
            raise SpecError(f"a roster must list 1 to {100 * MAX_VARIANTS:,} students", key="roster")
        seeds = [(k, sid, f"symbackprop:{seed}:id:{sid}") for k, sid in enumerate(ids, start=1)]
    plan = plan or draw_plan(spec, tuple(RULES))
    if plan.default and plan.space() < 10 * len(seeds):   # few values to draw: the 0.01 grid
        plan = plan.finer()
    log = log if log is not None else DrawLog()
    variants: list[Variant] = []
    seen: set[tuple] = set()
    space = plan.space()
    for number, sid, text in seeds:
        rng = random.Random(text)
        rejected: Counter = Counter()
        tried: dict[tuple, tuple[str, str]] = {}
        for _ in range(MAX_ATTEMPTS):
            variant, rule, reason = _attempt(plan, rng, method, questions, sig, seen, tried, log)
            if variant is not None:
                variants.append(replace(variant, number=number, id=sid))
                break
            rejected[rule] += 1
            if len(tried) + len(seen) >= space:   # every possible draw was met and rejected
                break
        if variant is None:
            common = ", ".join(f"{r} {n}×" for r, n in rejected.most_common(3))
            raise SpecError(f"could not draw variant {sid or number} in {sum(rejected.values())} attempts (rejected: "
                            f"{common}; last: {reason}); widen the ranges or allow a rule", key="randomize")
    return variants

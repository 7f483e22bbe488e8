"""The instructor's marking policy applied to one check: which rule holds for which answer or figure.

The spec's ``marking:`` (:mod:`symbackprop.spec.marking`) names questions as a student
would write them (``w_AT``, ``dE_dw_AT``, ``delta_T``, ``out_T``); here each name is resolved
to the quantity it means, so ``dE_dw_AT`` in the policy governs both the symbolic answer for
``--wrt w_AT`` and the worked figure ``grad_w_AT``. A name that is neither is refused.
"""
from __future__ import annotations

from ..errors import SpecError
from ..spec.marking import MarkingPolicy, Tolerance
from .context import CheckContext, Target
from .solution.worksheet import Quantity, Worksheet


def target_key(target: Target) -> str:
    return f"{target.kind}:{target.node}"


def quantity_key(q: Quantity) -> str:
    return f"{q.kind}:{q.node}" if q.kind in ("gradient", "delta") else f"figure:{q.key}"


class AppliedPolicy:
    """A :class:`MarkingPolicy` with its question names resolved against one network."""

    def __init__(self, ctx: CheckContext, policy: MarkingPolicy, worksheet: Worksheet | None = None):
        self.policy = policy
        self.tolerances: dict[str, Tolerance] = {}
        self.vocabularies: dict[str, str] = {}
        for name, (tolerance, vocabulary) in policy.questions.items():
            key = self._resolve(ctx, name, worksheet)
            if tolerance is not None:
                self.tolerances[key] = tolerance
            if vocabulary is not None:
                self.vocabularies[key] = vocabulary

    @staticmethod
    def _resolve(ctx: CheckContext, name: str, worksheet: Worksheet | None) -> str:
        try:
            return target_key(ctx.target(name))
        except SpecError:
            pass
        q = worksheet.resolve(name) if worksheet is not None else None
        if q is None:
            what = "an answer or figure" if worksheet is not None else "an answer (figures need values in the spec)"
            raise SpecError(f"'{name[:40]}' is not {what} of this network", key=f"marking.questions.{name[:40]}")
        return quantity_key(q)

    def tolerance(self, q: Quantity) -> Tolerance:
        return self.tolerances.get(quantity_key(q), self.policy.tolerance)

    def vocabulary(self, target: Target) -> str:
        return self.vocabularies.get(target_key(target), self.policy.vocabulary)

"""Which outputs have targets: a named loss needs every one, a loss expression only those it
names (``t_<output>``), ``targets: inputs`` (an autoencoder) takes each from an input.

>>> loss_name(" Cross-Entropy ")
'cross_entropy'
>>> used_targets("(out_y1 - x1)**2 + (out_y2 - t_y2)**2", ("y1", "y2"))
('y2',)
>>> used_targets("half_sse", ("y1", "y2"))
('y1', 'y2')
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from ..errors import SpecError
from ..expressions import FUNCTIONS
from ..losses import LOSSES

IDENTIFIER = re.compile(r"[^\W\d]\w*", re.UNICODE)


def loss_name(text: str) -> str:
    """A named loss as the registry spells it (``cross-entropy``, ``Half SSE`` → ``cross_entropy``,
    ``half_sse``); any other text (an expression) unchanged but stripped."""
    text = text.strip()
    folded = re.sub(r"[-\s]+", "_", text.casefold())
    return folded if folded in LOSSES else text


def used_targets(loss: str | None, outputs: tuple[str, ...]) -> tuple[str, ...]:
    """The outputs whose target ``t_<output>`` the loss uses (all of them for a named loss)."""
    if loss is None:
        return ()
    if loss in LOSSES:
        return tuple(outputs)
    names = {unicodedata.normalize("NFKC", n) for n in IDENTIFIER.findall(loss)}
    return tuple(o for o in outputs if f"t_{o}" in names)


def targets_from_inputs(raw: dict, inputs: tuple[str, ...], outputs: tuple[str, ...]) -> dict[str, str]:
    """``targets: inputs``: output j's target is input j (same count, in order); ``{}`` without it."""
    if "targets" not in raw:
        return {}
    value: Any = raw["targets"]
    if value != "inputs":
        raise SpecError("the only shorthand is 'targets: inputs' (each output's target is the "
                        "input in the same position, as in an autoencoder)", key="targets")
    if len(inputs) != len(outputs):
        raise SpecError(f"'targets: inputs' needs as many outputs as inputs ({len(outputs)} outputs, "
                        f"{len(inputs)} inputs)", key="targets")
    if "objective" in raw:
        raise SpecError("goes with 'outputs' + 'loss', not an 'objective'", key="targets")
    return dict(zip(outputs, inputs))


def undeclared_parameter(nodes: dict[str, str], inputs, neurons) -> None:
    """A network without parameters whose node uses a name nothing declares: say so, naming
    both (instead of "nothing to differentiate"); nothing when no such name is found."""
    known = set(nodes) | set(inputs) | set(neurons) | set(FUNCTIONS)
    for node, text in nodes.items():
        for name in IDENTIFIER.findall(text):
            name = unicodedata.normalize("NFKC", name)
            if name not in known and not name.startswith(("out_", "net_")):
                raise SpecError(f"the node uses '{name}', which is not declared: list the parameters "
                                f"under 'params' (e.g. params: [{name}])", key=f"nodes.{node}")

r"""What a :class:`~symbackprop.derive.Derivation` shows in Jupyter (``_repr_latex_``).

>>> from symbackprop.spec import spec_from_mapping
>>> from symbackprop.derive import derive
>>> d = derive(spec_from_mapping({"name": "t", "inputs": ["x"],
...     "neurons": {"o": {"from": {"x": "w"}, "activation": "identity"}},
...     "outputs": ["o"], "loss": "half_sse"}))
>>> gradient_latex(d, "w")
'$$\\frac{\\partial E}{\\partial w} = \\delta_{o} x$$'
>>> print(derivation_latex(d))
$$\begin{aligned}
\delta_{o} &= \mathrm{out}_{o} - t_{o} \\
\frac{\partial E}{\partial w} &= \delta_{o} x
\end{aligned}$$
"""
from __future__ import annotations

from ..derive import Derivation
from ..latex import latex_name, to_latex
from .texmath import fmt, partial


def gradient_latex(d: Derivation, name: str) -> str:
    """``$$∂E/∂name = expression [= value]$$`` for Jupyter (a gradient's ``_repr_latex_``)."""
    if name not in d.gradients:
        raise KeyError(f"no gradient for '{name}' (have {', '.join(d.gradients)})")
    text = rf"{partial(latex_name(d.loss_name), latex_name(name))} = {to_latex(d.gradients[name].expression)}"
    if d.numbers is not None:
        text += f" = {fmt(d.numbers.gradients[name], 6)}"
    return f"$${text}$$"


def derivation_latex(d: Derivation, max_rows: int = 40) -> str:
    """The δs and gradients of a derivation as one ``aligned`` block (a Derivation's ``_repr_latex_``)."""
    lines = []
    if d.is_variant:
        lines.append(r"&\text{lecture variant: hidden errors through updated weights, not the gradient}")
    for entry in d.deltas.values():
        value = f" = {fmt(d.numbers.deltas[entry.key], 6)}" if d.numbers is not None else ""
        lines.append(rf"{to_latex(entry.symbol)} &= {to_latex(entry.expression)}{value}")
    for name, entry in d.gradients.items():
        value = f" = {fmt(d.numbers.gradients[name], 6)}" if d.numbers is not None else ""
        lines.append(rf"{partial(latex_name(d.loss_name), latex_name(name))} &= "
                     rf"{to_latex(entry.expression)}{value}")
    if len(lines) > max_rows:
        hidden = len(lines) - max_rows
        lines = lines[:max_rows] + [rf"&\text{{\ldots\ and {hidden} more}}"]
    return "$$\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}$$"

"""Expressions in plain text the way the lectures write them (for the text reports)."""
from __future__ import annotations


def indicator_text(text: str) -> str:
    """SymPy's ``Heaviside(z, 0)`` (``h0`` 0 or 1) as the lectures write it: ``𝟙[z > 0]`` (``𝟙[z >= 0]``).

    >>> indicator_text("delta_o*w*Heaviside(net_h, 0) + Heaviside(a*(b + c), 1)")
    'delta_o*w*𝟙[net_h > 0] + 𝟙[a*(b + c) >= 0]'
    >>> indicator_text("Heaviside(x)")
    'Heaviside(x)'
    """
    out, start = [], 0
    while (at := text.find("Heaviside(", start)) >= 0:
        depth, comma, end = 0, None, None
        for i in range(at + len("Heaviside"), len(text)):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            if text[i] == "," and depth == 1:
                comma = i
            if depth == 0:
                end = i
                break
        if end is None:
            break
        h0 = text[comma + 1:end].strip() if comma is not None else ""
        inner = indicator_text(text[at + len("Heaviside("):comma if comma is not None else end])
        relation = {"0": ">", "1": ">="}.get(h0)
        out.append(text[start:at])
        out.append(f"𝟙[{inner} {relation} 0]" if relation else f"Heaviside({inner}{text[comma:end] if comma else ''})")
        start = end + 1
    return "".join(out) + text[start:]

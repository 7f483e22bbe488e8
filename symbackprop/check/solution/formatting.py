"""How a graded figure and its accepted range are written in feedback."""
from __future__ import annotations


def figure_text(x: float) -> str:
    if x != x:
        return "undefined"
    if x == 0:
        return "0"
    return f"{x:.6f}" if abs(x) >= 1e-3 else f"{x:.6g}"


def span_text(r: tuple[float, float]) -> str:
    lo, hi = (0.0 if abs(x) < 1e-8 else x for x in r)   # the ±1e-9 of figures written as exact
    if figure_text(lo) == figure_text(hi):
        return figure_text(lo)
    return f"{figure_text(lo)} … {figure_text(hi)}"

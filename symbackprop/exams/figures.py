"""A figure as the marking key shows it (significant figures) and the tolerance it is marked with.

>>> shown(0.00092907116, 3), shown(-12.3456, 3), shown(2.0, 3), shown(1234567.8, 3)
('0.000929', '-12.3', '2', '1230000')
>>> half_unit(0.00092907116, 3), half_unit(0.6802, 3)
(5e-07, 0.0005)
"""
from __future__ import annotations

import math

from ..spec.marking import Tolerance


def shown(value: float, sig: int) -> str:
    """``value`` to ``sig`` significant figures, plain decimals from 1e-5 to 1e7 (an exact integer as one)."""
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    rounded = float(f"{value:.{sig - 1}e}")
    magnitude = math.floor(math.log10(abs(rounded)))
    if not -5 <= magnitude < 7:
        return f"{value:.{sig - 1}e}"
    text = f"{rounded:.{max(0, sig - 1 - magnitude)}f}"
    return "0" if text.lstrip("-").strip("0.") == "" else text


def half_unit(value: float, sig: int) -> float:
    """Half a unit in the ``sig``-th significant figure of ``value`` (of 1 for 0)."""
    if value == 0 or not math.isfinite(value):
        return 0.5 * 10.0 ** (1 - sig)
    rounded = float(f"{value:.{sig - 1}e}")
    magnitude = math.floor(math.log10(abs(rounded)))
    return float(f"{0.5 * 10.0 ** (magnitude - sig + 1):.3g}")


def tolerance(value: float, sig: int, rule: Tolerance | None = None) -> float:
    """The absolute tolerance of a figure: half a unit in its last shown figure, or the tightest
    cap of the spec's ``marking:`` rule for it when the spec has one.

    >>> tolerance(0.6802, 3), tolerance(0.6802, 3, Tolerance(significant_figures=None, decimals=2))
    (0.0005, 0.005)
    """
    if rule is None:
        return half_unit(value, sig)
    caps = []
    if rule.significant_figures is not None:
        caps.append(half_unit(value, rule.significant_figures))
    if rule.decimals is not None:
        caps.append(0.5 * 10.0 ** -rule.decimals)
    if rule.relative is not None:
        caps.append(rule.relative * abs(value))
    if rule.absolute is not None:
        caps.append(rule.absolute)
    caps = [c for c in caps if c > 0]
    return min(caps) if caps else half_unit(value, sig)

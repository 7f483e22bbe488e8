r"""The network picture as SVG: the TikZ layout of :func:`symbackprop.render.tikz.network_picture`
drawn without TeX, for learning platforms that show images but cannot run LaTeX.

Coordinates, node kinds, edge labels and bias labels are the handout picture's; labels are
its LaTeX turned into SVG text (subscripts and superscripts as shifted ``tspan`` runs, Greek
letters as Unicode, ``\frac{a}{b}`` as ``a/b``), so the picture reads the same. Output is a
deterministic string (fixed number formatting, elements in the layout's order).

>>> runs("w_{AT} = 0.1")
[('w', ''), ('AT', 'sub'), (' = 0.1', '')]
>>> runs(r"\mathrm{net}_{T}^{+}"), runs(r"\delta_{\alpha}"), runs(r"\frac{1}{2 \sqrt{S}}")
([('net', ''), ('T', 'sub'), ('+', 'super')], [('δ', ''), ('α', 'sub')], [('1/2 √S', '')])
"""
from __future__ import annotations

import math
import re
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from ..names import GREEK_COMMANDS

PX_PER_CM = 48.0
MARGIN = 24.0
NODE_RADIUS_CM = {"input": 0.45, "neuron": 0.5}     # circles; the others are boxes
BOX_HALF_HEIGHT_CM = 0.4
FONT_PX = {"node": 15.0, "label": 12.0}
CHAR_EM = 0.58                                       # average glyph width in em, for label boxes

_GREEK = {name: chr(cp) for name, cp in (
    ("alpha", 0x3B1), ("beta", 0x3B2), ("gamma", 0x3B3), ("delta", 0x3B4), ("epsilon", 0x3B5),
    ("zeta", 0x3B6), ("eta", 0x3B7), ("theta", 0x3B8), ("iota", 0x3B9), ("kappa", 0x3BA),
    ("lambda", 0x3BB), ("mu", 0x3BC), ("nu", 0x3BD), ("xi", 0x3BE), ("pi", 0x3C0), ("rho", 0x3C1),
    ("sigma", 0x3C3), ("tau", 0x3C4), ("upsilon", 0x3C5), ("phi", 0x3C6), ("chi", 0x3C7),
    ("psi", 0x3C8), ("omega", 0x3C9), ("Gamma", 0x393), ("Delta", 0x394), ("Theta", 0x398),
    ("Lambda", 0x39B), ("Xi", 0x39E), ("Pi", 0x3A0), ("Sigma", 0x3A3), ("Upsilon", 0x3A5),
    ("Phi", 0x3A6), ("Psi", 0x3A8), ("Omega", 0x3A9))}
assert set(_GREEK) == GREEK_COMMANDS
_SYMBOLS = {"cdot": "·", "times": "×", "partial": "∂", "sigma": "σ", "pm": "±", "leq": "≤", "geq": "≥",
            "infty": "∞", "to": "→", "ldots": "…", "cdots": "⋯", "left": "", "right": "", "sum": "Σ",
            ",": " ", ";": " ", "!": "", " ": " ", "quad": "  ", "qquad": "    ", "{": "{", "}": "}", "|": "|"}
_WRAPPERS = {"mathrm", "mathit", "mathbf", "text", "operatorname", "mathsf"}
_UPRIGHT = {"mathrm", "mathbf", "text", "operatorname", "mathsf"}

Run = tuple[str, str]     # text and its shift: "", "sub" or "super"


def _group(tex: str, i: int) -> tuple[str, int]:
    """The argument starting at ``tex[i]``: a braced group (without braces), a command or one character."""
    if i >= len(tex):
        return "", i
    if tex[i] == "{":
        depth, j = 0, i
        while j < len(tex):
            depth += {"{": 1, "}": -1}.get(tex[j], 0)
            if depth == 0:
                return tex[i + 1:j], j + 1
            j += 1
        return tex[i + 1:], len(tex)
    if tex[i] == "\\":
        j = i + 1
        while j < len(tex) and tex[j].isalpha():
            j += 1
        j = max(j, i + 2)
        return tex[i:j], j
    return tex[i], i + 1


def _plain(tex: str) -> str:
    """Text of a TeX fragment with its shifts dropped (for nested sub/superscripts and fractions)."""
    return "".join(text for text, _ in runs(tex))


def styled_runs(tex: str, shift: str = "", upright: bool = False) -> list[tuple[str, str, bool]]:
    """Runs with their style: ``upright`` for ``\\mathrm``/``\\text`` words, digits and symbols
    (as TeX sets them), else italic letters."""
    out: list[tuple[str, str, bool]] = []

    def emit(text: str, where: str = shift, up: bool | None = None) -> None:
        for chunk in re.findall(r"[^\W\d_]+|[\W\d_]+", text):
            style = upright or not chunk[0].isalpha() if up is None else up
            if out and out[-1][1:] == (where, style):
                out[-1] = (out[-1][0] + chunk, where, style)
            else:
                out.append((chunk, where, style))

    i = 0
    while i < len(tex):
        ch = tex[i]
        if ch in "_^":
            arg, i = _group(tex, i + 1)
            for text, _, up in styled_runs(arg, upright=upright):
                emit(text, "sub" if ch == "_" else "super", up)
        elif ch == "\\":
            j = i + 1
            while j < len(tex) and tex[j].isalpha():
                j += 1
            name = tex[i + 1:j] if j > i + 1 else tex[i + 1:i + 2]
            i = j if j > i + 1 else i + 2
            if name in _WRAPPERS:
                arg, i = _group(tex, i)
                for text, where, up in styled_runs(arg, shift, upright or name in _UPRIGHT):
                    emit(text, where, up)
            elif name in ("frac", "tfrac", "dfrac"):
                num, i = _group(tex, i)
                den, i = _group(tex, i)
                emit(f"{_plain(num)}/{_plain(den)}")
            elif name == "sqrt":
                arg, i = _group(tex, i)
                inner = _plain(arg)
                emit("√" + (inner if len(inner) == 1 else f"({inner})"), up=True)
            elif name in _GREEK:
                emit(_GREEK[name], up=name[0].isupper() or upright)
            else:
                emit(_SYMBOLS.get(name, name), up=True)
        elif ch in "{}":
            i += 1
        else:
            emit("−" if ch == "-" else ch)
            i += 1
    return out


def runs(tex: str) -> list[Run]:
    """SVG text runs of a LaTeX label (see the module docstring); unknown commands print their name."""
    out: list[Run] = []
    for text, where, _ in styled_runs(tex):
        if out and out[-1][1] == where:
            out[-1] = (out[-1][0] + text, where)
        else:
            out.append((text, where))
    return out


def _text(tex: str, x: float, y: float, size: float, *, anchor: str = "middle", css: str = "") -> str:
    """One ``<text>`` element centred at (x, y), its runs as shifted ``tspan``s."""
    parts, level = [], 0.0          # level: the current baseline shift, in ems (dy is relative)
    for text, where, upright in styled_runs(tex):
        target = {"sub": 0.3, "super": -0.4}.get(where, 0.0)
        dy = f' dy="{_n((target - level) * size)}"' if target != level else ""
        small = f' font-size="{_n(size * 0.72)}"' if where else ""
        style = ' font-style="normal"' if upright else ""
        parts.append(f"<tspan{small}{dy}{style}>{escape(text)}</tspan>")
        level = target
    klass = f' class="{css}"' if css else ""
    return (f'<text{klass} x="{_n(x)}" y="{_n(y + size * 0.35)}" font-size="{_n(size)}" '
            f'text-anchor="{anchor}">{"".join(parts)}</text>')


def _n(value: float) -> str:
    """A coordinate with two decimals at most, ``-0`` as ``0`` (byte-stable output)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _width(tex: str, size: float) -> float:
    return sum(len(text) * (0.72 if where else 1.0) for text, where in runs(tex)) * CHAR_EM * size


def _half(kind: str, label: str) -> tuple[float, float, bool]:
    """Half width, half height (px) and roundness of a node."""
    if kind in NODE_RADIUS_CM:
        r = max(NODE_RADIUS_CM[kind] * PX_PER_CM, _width(label, FONT_PX["node"]) / 2 + 4)
        return r, r, True
    hw = max(BOX_HALF_HEIGHT_CM * PX_PER_CM, _width(label, FONT_PX["node"]) / 2 + 6)
    return hw, BOX_HALF_HEIGHT_CM * PX_PER_CM, False


def _border(half: tuple[float, float, bool], ux: float, uy: float) -> float:
    hw, hh, circle = half
    if circle:
        return hw
    return min(hw / abs(ux) if ux else math.inf, hh / abs(uy) if uy else math.inf)


def picture_svg(picture: dict[str, Any], *, title: str = "The network") -> str:
    """The SVG document of a ``network_picture`` (its ``drawn`` must be true)."""
    if not picture.get("drawn"):
        raise ValueError("the network is too large to draw")
    xu, yu = float(picture["x_unit"]) * PX_PER_CM, float(picture["y_unit"]) * PX_PER_CM
    nodes = {n["id"]: n for n in picture["nodes"]}
    centre = {i: (float(n["x"]) * xu, -float(n["y"]) * yu) for i, n in nodes.items()}
    half = {i: _half(n["kind"], n["label"]) for i, n in nodes.items()}
    points = [(x - half[i][0], y - half[i][1]) for i, (x, y) in centre.items()]
    points += [(x + half[i][0], y + half[i][1]) for i, (x, y) in centre.items()]
    for e in picture["edges"]:
        if e["label"]:
            x, y, w = float(e["x"]) * xu, -float(e["y"]) * yu, _width(e["label"], FONT_PX["label"]) / 2 + 3
            points += [(x - w, y - 10), (x + w, y + 10)]
    for n in picture["nodes"]:
        if n["bias"]:
            x, y, w = float(n["bias_x"]) * xu, -float(n["bias_y"]) * yu, _width(n["bias"], FONT_PX["label"]) / 2 + 3
            points += [(x - w, y - 10), (x + w, y + 10)]
    left = min(p[0] for p in points) - MARGIN
    top = min(p[1] for p in points) - MARGIN
    width = max(p[0] for p in points) + MARGIN - left
    height = max(p[1] for p in points) + MARGIN - top
    body = [f'<title>{escape(title)}</title>',
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
            'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#333"/></marker></defs>',
            '<rect x="{}" y="{}" width="{}" height="{}" fill="white"/>'.format(_n(left), _n(top), _n(width), _n(height))]
    for e in picture["edges"]:
        (x0, y0), (x1, y1) = centre[e["source"]], centre[e["target"]]
        length = math.hypot(x1 - x0, y1 - y0) or 1.0
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        s, t = _border(half[e["source"]], ux, uy), length - _border(half[e["target"]], -ux, -uy)
        dash = ' stroke-dasharray="5 3" stroke="#777"' if e["loss"] else ' stroke="#333"'
        body.append(f'<line x1="{_n(x0 + s * ux)}" y1="{_n(y0 + s * uy)}" x2="{_n(x0 + t * ux)}" '
                    f'y2="{_n(y0 + t * uy)}"{dash} stroke-width="1.3" marker-end="url(#arrow)"/>')
    fills = {"input": "#f0f0f0", "param": "#f0f0f0", "loss": "#f0f0f0", "neuron": "white", "node": "white"}
    for i, n in nodes.items():
        (x, y), (hw, hh, circle) = centre[i], half[i]
        stroke = ' stroke="#333" stroke-width="1.6"' if n["kind"] != "input" else ' stroke="#555" stroke-width="1"'
        if circle:
            body.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(hw)}" fill="{fills[n["kind"]]}"{stroke}/>')
            if n["objective"]:
                body.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(hw - 3)}" fill="none"{stroke}/>')
        else:
            rx = ' rx="3"' if n["kind"] == "node" else ""
            body.append(f'<rect x="{_n(x - hw)}" y="{_n(y - hh)}" width="{_n(2 * hw)}" height="{_n(2 * hh)}"{rx} '
                        f'fill="{fills[n["kind"]]}"{stroke}/>')
        body.append(_text(n["label"], x, y, FONT_PX["node"], css="node"))
    for group in picture.get("groups", []):      # a softmax group: a dashed frame around its members
        members = [m for m in re.findall(r"\((\w+)\)", group["members"]) if m in centre]
        if members:
            x0 = min(centre[m][0] - half[m][0] for m in members) - 5
            x1 = max(centre[m][0] + half[m][0] for m in members) + 5
            y0 = min(centre[m][1] - half[m][1] for m in members) - 5
            y1 = max(centre[m][1] + half[m][1] for m in members) + 22
            body.append(f'<rect x="{_n(x0)}" y="{_n(y0)}" width="{_n(x1 - x0)}" height="{_n(y1 - y0)}" rx="5" '
                        'fill="none" stroke="#888" stroke-dasharray="4 3"/>')
            body.append(_text(r"\mathrm{" + group["label"] + "}", (x0 + x1) / 2, y0 - 8, 11.0, css="group"))
    labels = [(e["label"], float(e["x"]) * xu, -float(e["y"]) * yu) for e in picture["edges"] if e["label"]]
    labels += [(n["bias"], float(n["bias_x"]) * xu, -float(n["bias_y"]) * yu) for n in picture["nodes"] if n["bias"]]
    for label, x, y in labels:
        w = _width(label, FONT_PX["label"]) / 2 + 2
        body.append(f'<rect x="{_n(x - w)}" y="{_n(y - 8)}" width="{_n(2 * w)}" height="16" fill="white"/>')
        body.append(_text(label, x, y, FONT_PX["label"], css="label"))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<!-- Generated by symbackprop -->\n'
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{_n(left)} {_n(top)} {_n(width)} {_n(height)}" '
            f'width="{_n(width)}" height="{_n(height)}" font-family="DejaVu Serif, Times, serif" '
            f'font-style="italic" role="img" aria-label={quoteattr(title)}>\n'
            + "\n".join(body) + "\n</svg>\n")

"""LaTeX answer text → tokens (one regular expression, linear in the text).

Unicode superscripts are exponents, never part of a name: ``x²`` is read as ``x^{2}`` and
``x⁻¹`` as ``x^{-1}`` (Unicode normalisation would otherwise make ``x²`` the name ``x2``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ...expressions import superscript_text
from .grammar import FONT_COMMANDS, GREEK_SET, SPACING, LatexError


@dataclass(frozen=True)
class Token:
    kind: str   # cmd, word, num, char, sym (control symbol like \, \{ \|), end
    value: str
    pos: int


TOKEN = re.compile(r"""
    (?P<cmd>\\[A-Za-z]+)
  | (?P<sym>\\[^A-Za-z])
  | (?P<num>\d+(?:\.\d*)?|\.\d+)
  | (?P<word>[^\W\d_][^\W_]*)
  | (?P<space>\s+)
  | (?P<char>.)
""", re.VERBOSE | re.UNICODE | re.DOTALL)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    for start, end, superscript in _segments(text):
        if superscript:  # x²: ^{2}
            inner = "".join(superscript_text(ch) for ch in text[start:end])
            tokens += [Token("char", "^", start), Token("char", "{", start)]
            tokens += [Token(t.kind, t.value, start) for t in _tokens(inner, 0)]
            tokens.append(Token("char", "}", end - 1))
        else:
            tokens += _tokens(text[start:end], start)
    tokens.append(Token("end", "", len(text)))
    return tokens


def _segments(text: str) -> list[tuple[int, int, bool]]:
    """``(start, end, is a run of superscripts)`` covering ``text``."""
    if text.isascii():
        return [(0, len(text), False)]
    out: list[tuple[int, int, bool]] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or (superscript_text(text[i]) is None) != (superscript_text(text[start]) is None):
            out.append((start, i, superscript_text(text[start]) is not None))
            start = i
    return out


def _tokens(text: str, offset: int) -> list[Token]:
    tokens: list[Token] = []
    for m in TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "space":
            continue
        value, pos = m.group(), m.start() + offset
        if kind == "cmd":
            value = value[1:]
        elif kind == "sym":
            value = value[1:]
            if value in SPACING or value == "\n":
                continue
        elif kind == "char" and value == "~":
            continue
        elif kind == "char" and (value in "#%$@;?\"`:" or ord(value) < 32 or value == "\x7f"):
            raise LatexError(f"character {value!r} is not allowed in an answer (column {pos + 1})")
        tokens.append(Token(kind, value, pos))
    return tokens


def tokens_text(tokens: list[Token] | None) -> str | None:
    """Flatten script tokens to the text used in name keys, or None if not name-like."""
    if tokens is None:
        return None
    out = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.kind in ("word", "num"):
            out.append(tok.value)
        elif tok.kind == "cmd" and tok.value in GREEK_SET:
            out.append(tok.value)
        elif tok.kind == "cmd" and tok.value in FONT_COMMANDS:
            pass  # its braces are dropped below; the letters stay
        elif tok.kind == "char" and tok.value in "{}":
            pass
        elif tok.kind == "char" and tok.value in "_^,()[]+'":
            out.append(tok.value if tok.value not in "^" else "")
        elif tok.kind == "cmd" and tok.value == "prime":
            out.append("'")
        else:
            return None
        i += 1
    text = "".join(out)
    return text.replace("_", "") if text else None

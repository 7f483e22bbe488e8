r"""The one jinja2 environment every template is rendered with.

LaTeX-safe delimiters (``\VAR{…}``, ``\BLOCK{…}``, ``\#{…}``), ``StrictUndefined`` (a
missing value is an error, never an empty string), autoescape off but an explicit ``tex``
filter for text, and trailing newlines kept so output is byte-stable.

The ``tex`` filter makes any string safe to typeset with pdfLaTeX in the documents' default
OT1 encoding (no font beyond Computer Modern is ever needed): the ten special characters,
characters OT1 would print as something else (``<``, ``>``, ``|``, ``"``, backquote, the
``--`` ligature), Greek letters and common symbols become commands, accented Latin letters
pass through, and anything else is shown as its code point. Control and format characters
are dropped. It is a single pass: nothing it writes is read again.

>>> tex_escape("50% of $x_1$")
'50\\% of \\$x\\_1\\$'
>>> tex_escape(r"\input{/etc/passwd} ^^5c")
'\\textbackslash{}input\\{/etc/passwd\\} \\textasciicircum{}\\textasciicircum{}5c'
>>> tex_escape("a -> b, λ ≤ 1, 5 €")
'a -\\textgreater{} b, \\ensuremath{\\lambda} \\ensuremath{\\leq} 1, 5 {\\ttfamily[U+20AC]}'
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

import jinja2

from .names import greek_command

def shipped_dir(name: str) -> Path:
    """A folder shipped beside the package (``templates``, ``examples``): the checkout's (and an
    editable install's), else where a regular install puts it (``<prefix>/share/symbackprop/NAME``,
    see pyproject.toml)."""
    import sys

    checkout = Path(__file__).resolve().parents[1] / name
    installed = Path(sys.prefix) / "share" / "symbackprop" / name
    return checkout if checkout.is_dir() or not installed.is_dir() else installed


TEMPLATE_DIR = shipped_dir("templates")

_TEX_ESCAPES = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\textasciicircum{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}",
    # OT1 would print these as other glyphs (¡ ¿ — ” ‘) or ligatures:
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
    '"': r"{\ttfamily\char34}", "`": r"{\ttfamily\char96}",
    "\u00a0": r"\nobreakspace{}",
}

# Accented Latin letters that pdfLaTeX's utf8 input builds in OT1 from Computer Modern alone
# (checked one by one: no T1/TS1 font, no bitmap font generation).
_OT1_SAFE = set(
    "¡¿ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝßàáâãäåæçèéêëìíîïñòóôõöøùúûüýÿ"
    "ĀāĂăĆćĈĉĊċČčĎďĒēĔĕĖėĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭİıĲĳĴĵĶķĹĺĻļĽľŁłŃńŅņŇňŌōŎŏŐőŒœŔŕŖŗŘřŚśŜŝŞşŠšŢţŤť"
    "ŨũŪūŬŭŮůŰűŴŵŶŷŸŹźŻżŽž“”‘’–—…"
)

_SYMBOLS = {
    "→": r"\rightarrow", "←": r"\leftarrow", "↔": r"\leftrightarrow", "⇒": r"\Rightarrow",
    "⇐": r"\Leftarrow", "⇔": r"\Leftrightarrow", "↦": r"\mapsto", "≤": r"\leq", "≥": r"\geq",
    "≠": r"\neq", "≈": r"\approx", "≡": r"\equiv", "×": r"\times", "·": r"\cdot", "⋅": r"\cdot",
    "−": "-", "±": r"\pm", "∓": r"\mp", "÷": r"\div", "∂": r"\partial", "∑": r"\sum",
    "∏": r"\prod", "√": r"\surd", "∞": r"\infty", "∈": r"\in", "∉": r"\notin", "∇": r"\nabla",
    "∘": r"\circ", "⊙": r"\odot", "∫": r"\int", "°": r"^{\circ}", "²": "^{2}", "³": "^{3}",
    "¹": "^{1}", "⁺": "^{+}", "⁻": "^{-}", "⁽": "^{(}", "⁾": "^{)}", "ⁿ": "^{n}", "′": "'",
    "″": "''", "½": r"\tfrac{1}{2}", "¼": r"\tfrac{1}{4}", "¾": r"\tfrac{3}{4}",
    "•": r"\bullet", "¬": r"\neg", "µ": r"\mu", "∧": r"\wedge", "∨": r"\vee", "∀": r"\forall",
    "∃": r"\exists", "∅": r"\emptyset", "⊂": r"\subset", "⊆": r"\subseteq", "∪": r"\cup",
    "∩": r"\cap", "ℝ": r"\mathbf{R}", "𝟙": r"\mathbf{1}", "ℓ": r"\ell",
}
_SYMBOLS.update({chr(0x2070 + d): f"^{{{d}}}" for d in (0, 4, 5, 6, 7, 8, 9)})
_SYMBOLS.update({chr(0x2080 + d): f"_{{{d}}}" for d in range(10)})



def _escape_char(ch: str, following: str) -> str:
    if ch in _TEX_ESCAPES:
        return _TEX_ESCAPES[ch]
    if ch == "-":
        return "-{}" if following == "-" else "-"
    code = ord(ch)
    if code < 128:
        if code < 32 or code == 127:
            return " " if ch in "\t\n\r" else ""
        return ch
    if ch in _OT1_SAFE:
        return ch
    math = greek_command(ch) or _SYMBOLS.get(ch)
    if math is not None:
        return rf"\ensuremath{{{math}}}"
    category = unicodedata.category(ch)
    if category.startswith("Z"):
        return " "
    if category in ("Cc", "Cf", "Cs", "Co", "Cn") or category.startswith("M"):
        return ""  # control, format (bidi overrides, zero-width), surrogates, lone combining marks
    decomposed = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if decomposed and decomposed != ch and all(c.isascii() and c.isalnum() for c in decomposed):
        return decomposed
    if len(decomposed) == 1 and greek_command(decomposed):  # ά → α
        return rf"\ensuremath{{{greek_command(decomposed)}}}"
    return rf"{{\ttfamily[U+{code:04X}]}}"


def tex_escape(text: object) -> str:
    """Escape text for LaTeX in one pass (see the module docstring); control characters are dropped."""
    s = str(text)
    return "".join(_escape_char(ch, s[i + 1] if i + 1 < len(s) else "") for i, ch in enumerate(s))


_GREEK = ("alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi "
          "pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega "
          "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega").split()
MATH_COMMANDS = frozenset(_GREEK + (
    "cdot times div pm mp leq geq neq approx equiv sim to rightarrow leftarrow mapsto in partial "
    "nabla sum prod infty ell log exp ln sin cos tanh max min frac tfrac dfrac sqrt mathrm mathbf "
    "mathit operatorname hat tilde bar vec dot odot circ top ldots cdots quad qquad left right "
    "langle rangle lbrace rbrace mid vert").split() + [",", ";", "!", "{", "}", "|"])
"""The commands a title or note may use inside ``$…$``: symbols and structure, nothing that reads
files, changes catcodes, defines macros or leaves math mode."""
_MATH_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 +-=<>()[],.;:/|'!*^_{}")
MAX_MATH = 200


def _safe_math(body: str) -> bool:
    """Whether ``body`` (between dollars) uses only :data:`MATH_COMMANDS`, plain characters and balanced braces."""
    if not body.strip() or len(body) > MAX_MATH or "^^" in body or body.rstrip()[-1] in "^_\\":
        return False
    depth, i = 0, 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            j = i + 1
            while j < len(body) and body[j].isascii() and body[j].isalpha():
                j += 1
            name = body[i + 1:j] if j > i + 1 else body[i + 1:i + 2]
            if name not in MATH_COMMANDS:
                return False
            i = j if j > i + 1 else i + 2
            continue
        if ch not in _MATH_CHARS:
            return False
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
        i += 1
    return depth == 0


def tex_with_math(text: object) -> str:
    r"""Text with inline math: each ``$…$`` made only of :data:`MATH_COMMANDS` and plain characters is
    kept as math; everything else (and any other ``$``) is escaped as :func:`tex_escape` does.

    >>> tex_with_math(r"one step with $\eta = 1$ (50%)")
    'one step with $\\eta = 1$ (50\\%)'
    >>> tex_with_math(r"$\input{/etc/passwd}$ and $x^^5c$")
    '\\$\\textbackslash{}input\\{/etc/passwd\\}\\$ and \\$x\\textasciicircum{}\\textasciicircum{}5c\\$'
    """
    parts = str(text).split("$")
    if len(parts) % 2 == 0:           # an odd number of dollars: the last one is text
        parts[-2:] = [parts[-2] + "$" + parts[-1]]
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            out.append(tex_escape(part))
        elif _safe_math(part):
            out.append(f"${part}$")
        else:
            out.append(tex_escape(f"${part}$"))
    return "".join(out)


def _template_dir() -> Path:
    return TEMPLATE_DIR


@lru_cache(maxsize=None)
def _environment(directory: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        block_start_string=r"\BLOCK{", block_end_string="}",
        variable_start_string=r"\VAR{", variable_end_string="}",
        comment_start_string=r"\#{", comment_end_string="}",
        line_statement_prefix=None, line_comment_prefix=None,
        trim_blocks=True, lstrip_blocks=True, autoescape=False,
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
    )
    env.filters["tex"] = tex_escape
    env.filters["texmath"] = tex_with_math
    env.filters["capitalize_first"] = lambda text: text[:1].upper() + text[1:]
    return env


def environment() -> jinja2.Environment:
    """The shared environment over :data:`TEMPLATE_DIR` (cached per directory)."""
    return _environment(str(_template_dir()))


def render(template: str, **context) -> str:
    """Render ``templates/<template>`` with plain-data ``context``."""
    return environment().get_template(template).render(**context)

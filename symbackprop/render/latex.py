"""LaTeX for expressions: SymPy's printer with one symbol-name mapping, never string surgery.

>>> import sympy as sp
>>> latex_name("w_AT"), latex_name("out_T"), latex_name("delta_alpha"), latex_name("x1__2")
('w_{AT}', '\\\\mathrm{out}_{T}', '\\\\delta_{\\\\alpha}', 'x_{1}^{(2)}')
>>> to_latex(sp.Symbol("out_T") * (1 - sp.Symbol("out_T")))
'\\\\mathrm{out}_{T} \\\\left(1 - \\\\mathrm{out}_{T}\\\\right)'
"""
from __future__ import annotations

import re
import unicodedata

import sympy as sp

GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi",
    "Omega",
}
_PREFIXES = {"net": r"\mathrm{net}", "out": r"\mathrm{out}", "delta": r"\delta", "t": "t"}
_TRAILING_DIGITS = re.compile(r"^([^\W\d_]+)(\d+)$", re.UNICODE)


def _word(word: str, *, wrap: bool = True) -> str:
    """One name part: Greek (spelled or Unicode) to its command; longer words in \\mathit."""
    if word in GREEK:
        return "\\" + word
    out = []
    for ch in word:
        name = unicodedata.name(ch, "")
        letter = name.split(" LETTER ")[-1].lower().replace("lamda", "lambda")
        if name.startswith("GREEK ") and " LETTER " in name:
            command = letter.capitalize() if "CAPITAL" in name else letter
            if command in GREEK:
                out.append("\\" + command + " ")
                continue
        out.append(ch)
    text = "".join(out).strip()
    if not wrap or len(word) == 1 or "\\" in text or word.isdigit():
        return text
    return f"\\mathit{{{text}}}"


def _head(part: str, *, subscripted: bool) -> str:
    """``x1`` → ``x_{1}``; with a subscript to follow, ``w1`` → ``w^{(1)}`` (layer index)."""
    match = _TRAILING_DIGITS.match(part)
    if not match:
        return _word(part)
    letters, digits = match.groups()
    return f"{_word(letters)}^{{({digits})}}" if subscripted else f"{_word(letters)}_{{{digits}}}"


def latex_name(name: str) -> str:
    """The LaTeX of a symbol name (``w_AT`` → ``w_{AT}``, ``x1__2`` → ``x_{1}^{(2)}``)."""
    superscript = ""
    if "__" in name:
        name, tag = name.split("__", 1)
        superscript = "^{+}" if tag == "new" else f"^{{({tag})}}"
    head, _, rest = name.partition("_")
    if head in _PREFIXES and rest:
        body = f"{_PREFIXES[head]}_{{{latex_name(rest)}}}"
    elif rest:
        subscript = ",".join(_word(p, wrap=False) for p in rest.split("_"))
        body = f"{_head(head, subscripted=True)}_{{{subscript}}}"
    else:
        body = _head(head, subscripted=False)
    if superscript:
        body = f"{{{body}}}{superscript}" if "^" in body or "_" in body else body + superscript
    return body


def symbol_names(expr: sp.Expr) -> dict[sp.Symbol, str]:
    """The mapping passed to SymPy's printer for every symbol of ``expr``."""
    return {s: latex_name(s.name) for s in expr.free_symbols if isinstance(s, sp.Symbol)}


def to_latex(expr: sp.Expr) -> str:
    """LaTeX of an expression with the project's symbol names."""
    if not isinstance(expr, sp.Basic):
        expr = sp.Integer(expr)
    return sp.latex(expr, symbol_names=symbol_names(expr))

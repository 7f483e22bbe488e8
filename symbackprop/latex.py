r"""LaTeX for expressions: SymPy's printer with one symbol-name mapping, never string surgery.

Every symbol gets its LaTeX name from :func:`latex_name` (passed to the printer as
``symbol_names``): ``w_AT`` → ``w_{AT}``, ``out_T`` → ``\mathrm{out}_{T}``, ``delta_T`` →
``\delta_{T}``, spelled-out or Unicode Greek to letters (``W_lambdaA`` → ``W_{\lambda A}``),
``x1__2`` → ``x_{1}^{[2]}`` (example 2), ``w_TF__new`` → ``{w_{TF}}^{+}`` (updated weight).

>>> import sympy as sp
>>> latex_name("w_AT"), latex_name("out_T"), latex_name("delta_alpha"), latex_name("x1__2")
('w_{AT}', '\\mathrm{out}_{T}', '\\delta_{\\alpha}', 'x_{1}^{[2]}')
>>> latex_name("W_lambdaA"), latex_name("W_Aalpha"), latex_name("out_alpha"), latex_name("w1_2_3")
('W_{\\lambda A}', 'W_{A\\alpha}', '\\mathrm{out}_{\\alpha}', 'w^{(1)}_{2,3}')
>>> to_latex(sp.Symbol("out_T") * (1 - sp.Symbol("out_T")))
'\\mathrm{out}_{T} \\left(1 - \\mathrm{out}_{T}\\right)'
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Iterator, Mapping

import sympy as sp
from sympy.printing.latex import LatexPrinter, _between_two_numbers_p
from sympy.printing.precedence import PRECEDENCE

from .names import GREEK_COMMANDS, greek_command
from .ordering import OrderedTermsMixin
from .templating import tex_escape

GREEK = set(GREEK_COMMANDS)
_PREFIXES = {"net": r"\mathrm{net}", "out": r"\mathrm{out}", "delta": r"\delta", "t": "t"}
_TRAILING_DIGITS = re.compile(r"^([^\W\d_]+)(\d+)$", re.UNICODE)
_GREEK_BY_LENGTH = sorted(GREEK, key=len, reverse=True)


def _char(ch: str) -> str:
    """One character of a name in math mode: Greek to its command, other non-ASCII via text."""
    if ch.isascii():
        return ch
    command = greek_command(ch)
    if command is not None:
        return command + " "
    return rf"\text{{{tex_escape(ch)}}}"


def _word(word: str, *, wrap: bool = True) -> str:
    """One name part: Greek (spelled or Unicode) to its command; longer words in \\mathit."""
    if word in GREEK:
        return "\\" + word
    text = "".join(_char(ch) for ch in word).strip()
    if not wrap or len(word) == 1 or "\\" in text or word.isdigit():
        return text
    return f"\\mathit{{{text}}}"


def _greek_tokens(part: str) -> list[str] | None:
    """Split a subscript like ``lambdaA`` or ``Aalpha`` into Greek words and capitals/digits.

    Only when every piece is a spelled-out Greek letter, a capital letter or a digit run and
    at least one is Greek (so ``AT``, ``net`` or ``mutual`` are left alone).
    """
    if part.isdigit() or not any(ch.islower() for ch in part):  # every Greek word has a small letter
        return None
    best: dict[int, list[str] | None] = {len(part): []}
    for i in range(len(part) - 1, -1, -1):
        options = []
        for g in _GREEK_BY_LENGTH:
            if part.startswith(g, i) and best.get(i + len(g)) is not None:
                options.append([g] + best[i + len(g)])
        if part[i].isascii() and part[i].isupper() and best.get(i + 1) is not None:
            options.append([part[i]] + best[i + 1])
        if part[i].isdigit():
            j = i
            while j < len(part) and part[j].isdigit():
                j += 1
            if best.get(j) is not None:
                options.append([part[i:j]] + best[j])
        best[i] = min(options, key=len) if options else None
    tokens = best[0]
    if not tokens or not any(t in GREEK for t in tokens):
        return None
    return tokens


def _subscript_part(part: str) -> str:
    tokens = _greek_tokens(part)
    if tokens is None:
        return _word(part, wrap=False)
    out = ""
    for token in tokens:
        piece = "\\" + token if token in GREEK else token
        if out and out[-1].isalpha() and re.search(r"\\[A-Za-z]+$", out) and piece[0].isalnum():
            out += " "
        out += piece
    return out


def _head(part: str, *, subscripted: bool) -> str:
    """``x1`` → ``x_{1}``; with a subscript to follow, ``w1`` → ``w^{(1)}`` (layer index)."""
    match = _TRAILING_DIGITS.match(part)
    if not match:
        return _word(part)
    letters, digits = match.groups()
    return f"{_word(letters)}^{{({digits})}}" if subscripted else f"{_word(letters)}_{{{digits}}}"


_TARGET_LETTER: ContextVar[str] = ContextVar("target_letter", default="t")


@contextmanager
def lecture_symbols(target: str = "t") -> Iterator[None]:
    r"""Within the block, targets print with the lecture's letter (spec key ``symbols.target``):
    the documents' notation only; names in JSON, text and answers stay ``t_<output>``.

    >>> with lecture_symbols(target="c"):
    ...     latex_name("t_F"), target_letter()
    ('c_{F}', 'c')
    >>> latex_name("t_F")
    't_{F}'
    """
    token = _TARGET_LETTER.set(target)
    try:
        yield
    finally:
        _TARGET_LETTER.reset(token)


def target_letter() -> str:
    """The LaTeX of the targets' letter in force (``t`` unless :func:`lecture_symbols` says)."""
    return _latex_name(_TARGET_LETTER.get(), "t")


def latex_name(name: str) -> str:
    """The LaTeX of a symbol name (``w_AT`` → ``w_{AT}``, ``x1__2`` → ``x_{1}^{[2]}``).

    Layers are parenthesised superscripts (``h1_2`` → ``h^{(1)}_{2}``), examples bracketed
    (``__2`` → ``^{[2]}``), so ``net^{[2]}_{h^{(1)}_{1}}`` reads unambiguously."""
    return _latex_name(name, _TARGET_LETTER.get())


@lru_cache(maxsize=1 << 16)
def _latex_name(name: str, target: str) -> str:
    if name == "t" and target != "t":   # the matrix view's target vector (no spec name is "t")
        return _latex_name(target, "t")
    superscript = ""
    if "__" in name:
        name, tag = name.split("__", 1)
        superscript = "^{+}" if tag == "new" else f"^{{[{_word(tag, wrap=False)}]}}"
    head, _, rest = name.partition("_")
    if head == "t" and rest and target != "t":
        body = f"{_latex_name(target, 't')}_{{{_latex_name(rest, target)}}}"
    elif head in _PREFIXES and rest:
        body = f"{_PREFIXES[head]}_{{{_latex_name(rest, target)}}}"
    elif rest:
        subscript = ",".join(_subscript_part(p) for p in rest.split("_"))
        body = f"{_head(head, subscripted=True)}_{{{subscript}}}"
    else:
        body = _head(head, subscripted=False)
    if superscript:
        body = f"{{{body}}}{superscript}" if _top_level_superscript(body) else body + superscript
    return body


def _top_level_superscript(body: str) -> bool:
    """Whether ``body`` already has a superscript outside braces (``w^{(1)}_{2}``)."""
    depth = 0
    for ch in body:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if ch == "^" and depth == 0:
            return True
    return False


def symbol_names(expr: sp.Expr) -> dict[sp.Symbol, str]:
    """The mapping passed to SymPy's printer for every symbol of ``expr``."""
    return {s: latex_name(s.name) for s in expr.free_symbols if isinstance(s, sp.Symbol)}


class _Printer(OrderedTermsMixin, LatexPrinter):
    """SymPy's LaTeX printer with the lectures' notation for the ReLU derivative, and with the
    symbols in ``leading`` (δs) written first in a product, as lectures write ``δ_j x_i``."""

    _default_settings = {**LatexPrinter._default_settings, "leading": frozenset(), "bare_names": {}}
    _bare: sp.Symbol | None = None

    def _print(self, expr, **kwargs):
        """A function applied to one symbol that has a bare name (a negative number, which
        elsewhere prints in parentheses) prints it bare: ``\\sigma(-0.76)``, not ``\\sigma((-0.76))``."""
        if (isinstance(expr, sp.Function) and len(expr.args) == 1
                and expr.args[0] in self._settings["bare_names"]):
            outer, self._bare = self._bare, expr.args[0]
            try:
                return super()._print(expr, **kwargs)
            finally:
                self._bare = outer
        return super()._print(expr, **kwargs)

    def _print_Symbol(self, expr, style="plain"):
        if expr is self._bare:
            return self._settings["bare_names"][expr]
        return super()._print_Symbol(expr, style)

    def _print_Mul(self, expr):
        leading = self._settings["leading"]
        coeff, factors = expr.as_coeff_mul()
        first = [f for f in factors if f in leading]
        rest = [f for f in factors if f not in leading]
        if not leading or not first or not rest or coeff not in (1, -1):
            return super()._print_Mul(expr)
        product = lambda factors: factors[0] if len(factors) == 1 else sp.Mul(*factors)  # noqa: E731
        tex = self._print(product(first)) + " " + self.parenthesize(product(rest), PRECEDENCE["Mul"])
        return tex if coeff == 1 else "- " + tex

    def _plain_sum(self, terms: list[str]) -> str:
        """What ``LatexPrinter._print_Add`` writes for a sum of plain symbols and their products."""
        return " + ".join(terms)

    def _symbol_product(self, factors: list[str]) -> str:
        """What ``LatexPrinter._print_Mul`` writes for a product of plain symbols (a number
        between two numbers when ``names`` maps symbols to numbers)."""
        tex = last = ""
        for term in factors:
            if _between_two_numbers_p[0].search(last) and _between_two_numbers_p[1].match(term):
                tex += self._settings["mul_symbol_latex_numbers"]
            elif tex:
                tex += self._settings["mul_symbol_latex"]
            tex += term
            last = term
        return tex

    def _ordered_product(self, expr: sp.Expr, negative: bool, factors: list[sp.Expr]) -> str:
        """What ``LatexPrinter._print_Mul`` writes for ``±`` the product of ``factors`` (in SymPy's
        order; no number, no denominator)."""
        texs = []
        for i, term in enumerate(factors):
            tex = self._print(term)
            if self._needs_mul_brackets(term, first=i == 0, last=i == len(factors) - 1):
                tex = rf"\left({tex}\right)"
            texs.append(tex)
        return ("- " if negative else "") + self._symbol_product(texs)

    def _print_Heaviside(self, expr, exp=None):
        if len(expr.args) == 2 and expr.args[1] in (0, 1):
            relation = ">" if expr.args[1] == 0 else r"\geq"
            tex = rf"\mathbf{{1}}\!\left[{self._print(expr.args[0])} {relation} 0\right]"
            return f"{tex}^{{{exp}}}" if exp else tex
        return super()._print_Heaviside(expr, exp)


def lecture_form(expr: sp.Expr) -> sp.Expr:
    """A sum whose terms all carry the same rational factor (up to sign), written as that
    factor times the sum, as lectures write it (the same value; display only).

    >>> out, t = sp.symbols("out t")
    >>> lecture_form(out / 2 - t / 2), lecture_form(2 * out - 2 * t), lecture_form(out - t)
    ((out - t)/2, 2*(out - t), out - t)
    >>> lecture_form(out + t / 10)     # no factor every term shares as it stands
    out + t/10
    """
    if isinstance(expr, sp.Add):
        content, rest = expr.primitive()
        shared = all(abs(term.as_coeff_Mul()[0]) == 1 for term in sp.Add.make_args(rest))
        if content.is_Rational and content not in (1, -1) and shared:
            return sp.Mul(content, rest, evaluate=False)
    return expr


def to_latex(expr: sp.Expr, names: Mapping[sp.Symbol, str] | None = None, **settings) -> str:
    """LaTeX of an expression with the project's symbol names.

    ``names`` overrides the LaTeX of some symbols (the solution documents map symbols to
    their formatted numbers); other settings go to SymPy's printer (e.g. ``mul_symbol``).
    A product writes its δs first (``leading``, by default every symbol printed as a δ), as
    lectures write ``δ_A λ``:

    >>> to_latex(sp.Symbol("Omega") * sp.Symbol("delta_A"))
    '\\\\delta_{A} \\\\Omega'
    """
    if not isinstance(expr, sp.Basic):
        expr = sp.sympify(expr, strict=True)  # numbers only: never a string
    expr = lecture_form(expr)
    mapping = symbol_names(expr)
    if names:
        mapping.update({s: v for s, v in names.items() if s in mapping})
    settings.setdefault("leading", frozenset(s for s, tex in mapping.items() if tex.startswith(r"\delta")))
    return _Printer({"symbol_names": mapping, **settings}).doprint(expr)


def figure_tex(name: str, loss: str, params: set[str]) -> str:
    r"""The TeX of an answer name as a worked-solution file spells it.

    >>> figure_tex("dE_dw_AT", "E", {"w_AT"}), figure_tex("w_TF_new", "E", {"w_TF"})
    ('\\partial E / \\partial w_{AT}', '{w_{TF}}^{+}')
    >>> figure_tex("net_T_after", "E", set()), figure_tex("dw_AT", "E", {"w_AT"}), figure_tex("delta_F", "E", set())
    ('{\\mathrm{net}_{T}}^{+}', '\\Delta w_{AT}', '\\delta_{F}')
    """
    after = "_after"
    if name.endswith(after) and len(name) > len(after):
        return "{" + figure_tex(name[:-len(after)], loss, params) + "}^{+}"
    if name.startswith(f"d{loss}_d") and len(name) > len(loss) + 3:
        return rf"\partial {latex_name(loss)} / \partial {latex_name(name[len(loss) + 3:])}"
    if name.endswith("_new") and name[:-4] in params:
        return "{" + latex_name(name[:-4]) + "}^{+}"
    if name.startswith("d") and name[1:] in params:
        return rf"\Delta {latex_name(name[1:])}"
    return latex_name(name)

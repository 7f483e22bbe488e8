"""TeX-math toolkit: numbers as printed, visual widths, equations broken across lines, products and sums."""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Sequence, Union

import sympy as sp

from ..latex import lecture_form, to_latex


@dataclass(frozen=True)
class Precision:
    r"""How computed numbers are rounded for display: ``decimals`` fixed places, or ``sig``
    significant figures (then very large and very small values take a power of ten).

    >>> Precision(sig=3)(0.0026543), Precision(sig=3)(123.456), Precision(sig=2)(-2.2e-7)
    ('0.00265', '123', '-2.2 \\times 10^{-7}')
    >>> Precision(decimals=3)(0.0026543), Precision(decimals=3)(2.0)
    ('0.003', '2')
    """

    decimals: int | None = 6
    sig: int | None = None

    def __call__(self, value: float) -> str:
        if value == int(value) and abs(value) < 1e15:
            return str(int(value))  # an exact integer prints as one, never 1.000000
        if self.sig is None:
            return _clean(f"{value:.{self.decimals}f}")
        magnitude = math.floor(math.log10(abs(value)))
        if not -5 <= magnitude < 7:
            mantissa, exponent = f"{value:.{self.sig - 1}e}".split("e")
            return rf"{mantissa} \times 10^{{{int(exponent)}}}"
        rounded = float(f"{value:.{self.sig - 1}e}")
        magnitude = math.floor(math.log10(abs(rounded))) if rounded else magnitude
        return _clean(f"{rounded:.{max(0, self.sig - 1 - magnitude)}f}")

    @property
    def places(self) -> int:
        """Decimal places a short given value may keep and still print as written."""
        return max(self.decimals if self.sig is None else self.sig, 6)

    def describe(self) -> str:
        if self.sig is not None:
            return f"rounded to {self.sig} significant figure{'s' if self.sig != 1 else ''}"
        return f"rounded to {self.decimals} decimal place{'s' if self.decimals != 1 else ''}"


def _clean(text: str) -> str:
    return text.lstrip("-") if text.lstrip("-").strip("0.") == "" else text


Digits = Union[int, Precision]
"""Either fixed decimal places (an ``int``) or a :class:`Precision`."""


def precision_words(digits: Digits) -> dict[str, str]:
    """How a document states its precision: to the reader of a solution, and to a student answering.

    >>> precision_words(3)["answer"], precision_words(Precision(sig=4))["shown"]
    ('3 decimal places', 'rounded to 4 significant figures')
    """
    p = precision_of(digits)
    return {"shown": p.describe(), "answer": p.describe().removeprefix("rounded to ")}


def precision_of(digits: Digits) -> Precision:
    return digits if isinstance(digits, Precision) else Precision(decimals=digits)


def fmt(value: float, digits: Digits) -> str:
    """A computed value rounded for display (``-0.000`` shows as ``0.000``; exact integers as integers).

    >>> fmt(0.6802672, 6), fmt(-1e-9, 3), fmt(2.5, 0), fmt(1.0, 6)
    ('0.680267', '0.000', '2', '1')
    """
    if not math.isfinite(value):
        return {math.inf: r"\infty", -math.inf: r"-\infty"}.get(value, r"\mathrm{NaN}")
    return precision_of(digits)(value)


def l2_tex(spec) -> str:
    r"""The L2 penalty's factor in the spec's form: ``0.01``, ``\frac{0.01}{2}``, ``\frac{0.01}{2 \cdot 3}``
    (λ/(2m) with m examples); ``""`` without regularisation."""
    if spec.l2 is None:
        return ""
    lam = fmt_given(spec.l2_lambda if spec.l2_lambda is not None else spec.l2, 6)
    if spec.l2_form == "lambda/2*sum":
        return rf"\frac{{{lam}}}{{2}}"
    if spec.l2_form == "lambda/(2m)*sum":
        return rf"\frac{{{lam}}}{{2 \cdot {max(len(spec.examples), 1) if spec.has_data else 1}}}"
    return lam


def fmt_given(value: sp.Rational | float | int, digits: Digits) -> str:
    """A value from the spec as written when it is a short decimal (``7/20`` → ``0.35``), else rounded.

    >>> fmt_given(sp.Rational(7, 20), 6), fmt_given(sp.Integer(2), 6), fmt_given(sp.Rational(1, 3), 4)
    ('0.35', '2', '0.3333')
    """
    q = Fraction(int(sp.Rational(value).p), int(sp.Rational(value).q))
    den = q.denominator
    while den % 2 == 0:
        den //= 2
    while den % 5 == 0:
        den //= 5
    if den == 1:
        text = format(Decimal(q.numerator) / Decimal(q.denominator), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        if len(text.partition(".")[2]) <= precision_of(digits).places:
            return "0" if text == "-0" else text
    return fmt(float(q), digits)


def number_tex(text: str) -> str:
    """A formatted number as a factor in LaTeX: negatives in parentheses."""
    return rf"\left({text}\right)" if text.startswith("-") else text


_NO_WIDTH = {"mathrm", "mathit", "mathbf", "text", "operatorname", "displaystyle", "textstyle", "limits"}


_COMMAND_CLASS = {"cdot": "dot", "times": "dot", "to": "rel", "leq": "rel", "geq": "rel", "approx": "rel",
                  "sum": "sum", "partial": "lower", ",": "thin", "!": "neg", ";": "thin", "quad": "quad",
                  "qquad": "qquad", "log": "word3", "exp": "word3", "tanh": "word4", "sqrt": "sqrt",
                  "eta": "lower", "sigma": "lower", "delta": "lower", "lambda": "lower", "alpha": "lower",
                  "beta": "lower", "mu": "lower", "ell": "lower"}


# Points per glyph of each class, fitted (non-negative least squares) to pdfLaTeX's widths of
# ~900 displayed equations from the shipped examples' documents (11pt); the estimate is within
# -17% .. +22% of the real width for every one of them.
_WIDTHS = {"lower": 5.8, "upper": 7.3, "digit": 4.9, "other_cmd": 10.5, "rel": 16.3, "bin": 19.2,
           "dot": 5.9, "paren": 6.2, "punct": 0.7, "sum": 14.5, "word3": 15.0, "word4": 20.5,
           "sqrt": 13.0, "thin": 2.1, "neg": -1.7, "quad": 11.0, "qquad": 22.0, "frac": 0.0}


def _width_features(tex: str) -> dict[str, float]:
    """How much of each class of glyph ``tex`` typesets (sub- and superscripts at 0.7, stacked
    ones counting the wider, fractions the wider of numerator and denominator)."""
    def add(into: dict, other: dict, scale: float = 1.0) -> None:
        for k, v in other.items():
            into[k] = into.get(k, 0.0) + v * scale

    def width(f: dict) -> float:
        return sum(_WIDTHS[k] * v for k, v in f.items())

    def group(i: int) -> tuple[dict, int]:
        if i < len(tex) and tex[i] == "{":
            f, i = seq(i + 1)
            return f, i + 1
        return atom(i)

    def atom(i: int) -> tuple[dict, int]:
        ch = tex[i]
        if ch == "\\":
            j = i + 1
            while j < len(tex) and tex[j].isalpha():
                j += 1
            if j == i + 1:
                j += 1
            word = tex[i + 1:j]
            if word in ("frac", "dfrac", "tfrac"):
                top, j = group(j)
                bottom, j = group(j)
                wider = dict(top if width(top) >= width(bottom) else bottom)
                if word == "tfrac":
                    wider = {k: v * 0.75 for k, v in wider.items()}
                add(wider, {"frac": 1.0})
                return wider, j
            if word in ("left", "right"):
                return {"paren": 1.0}, j + 1
            if word in _NO_WIDTH:
                return {}, j
            return {_COMMAND_CLASS.get(word, "other_cmd"): 1.0}, j
        if ch == "{":
            return group(i)
        if ch in " }":
            return {}, i + 1
        if ch in "=<>":
            return {"rel": 1.0}, i + 1
        if ch in "+-":
            return {"bin": 1.0}, i + 1
        if ch in "()[]|":
            return {"paren": 1.0}, i + 1
        if ch in ",.;!":
            return {"punct": 1.0}, i + 1
        if ch.isdigit():
            return {"digit": 1.0}, i + 1
        return {"upper" if ch.isupper() else "lower": 1.0}, i + 1

    def seq(i: int) -> tuple[dict, int]:
        total: dict = {}
        while i < len(tex) and tex[i] != "}":
            if tex[i] in "_^":
                widest: dict = {}
                while i < len(tex) and tex[i] in "_^":
                    f, i = group(i + 1)
                    if width(f) > width(widest):
                        widest = f
                add(total, widest, 0.7)
            else:
                f, i = atom(i)
                add(total, f)
        return total, i

    total: dict = {}
    i = 0
    while i < len(tex):
        f, i = seq(i)
        add(total, f)
        i += 1  # a stray closing brace
    return total


def visual_width(tex: str) -> float:
    r"""The width of ``tex`` typeset in display math, estimated in points (11pt).

    Used only to decide where a displayed equation breaks into lines.

    >>> visual_width(r"\frac{\partial E}{\partial w_{AT}}") < visual_width(r"\partial E \partial w_{AT}")
    True
    """
    return sum(_WIDTHS[k] * v for k, v in _width_features(tex).items())


LINE_WIDTH = 400.0  # estimated points of one displayed line (the text is 472 pt; estimates err by up to 20%)


class Sum(list):
    """A sum of LaTeX terms: joined with + (or −), and broken across lines when too long."""

    def tex(self) -> str:
        return sum_tex(self)

    def lines(self, width: float) -> list[str]:
        lines: list[list[str]] = [[]]
        for term in self:
            if lines[-1] and visual_width(sum_tex(lines[-1] + [term])) > width:
                lines.append([])
            lines[-1].append(term)
        out = []
        for i, chunk in enumerate(lines):
            text = sum_tex(chunk)
            out.append(text if i == 0 else (text if text.startswith("-") else "+ " + text))
        return out


class ScaledSum(Sum):
    r"""A number times a sum, ``\frac{1}{9}\left(a + b + …\right)``: broken across lines as a sum
    is, inside big parentheses that can span them (``\left … \right`` cannot).

    >>> ScaledSum(["a", "b"], scale=r"\frac{1}{9}").tex()
    '\\frac{1}{9}\\left(a + b\\right)'
    >>> ScaledSum(["a"] * 40, scale="2").lines(100.0)[-1].endswith(r"\Bigr)")
    True
    """

    def __init__(self, terms: Sequence[str], scale: str):
        super().__init__(terms)
        self.scale = scale

    def tex(self) -> str:
        return rf"{self.scale}\left({sum_tex(self)}\right)"

    def lines(self, width: float) -> list[str]:
        lines = Sum(self).lines(width - visual_width(self.scale) - 10)
        lines[0] = rf"{self.scale}\Bigl({lines[0]}"
        lines[-1] += r"\Bigr)"
        return lines


def row(lhs: str, *chain: str | Sum, note: str = "") -> dict[str, Any]:
    """One displayed equation ``lhs = chain[0] = chain[1] = …`` as aligned lines.

    Short chains stay on one line; otherwise each member starts a line with ``=`` and a
    long sum continues on further lines. ``note`` is plain text shown at the right.
    """
    items = []
    for c in chain:  # empty members and repeats (out = net = 1.5 = 1.5) are dropped
        text = c.tex() if isinstance(c, Sum) else c
        if text != "" and (not items or text != (items[-1].tex() if isinstance(items[-1], Sum) else items[-1])):
            items.append(c)
    room = LINE_WIDTH - visual_width(lhs)
    lines: list[dict[str, str]] = []
    current: list[str] = []
    for item in items:
        text = item.tex() if isinstance(item, Sum) else item
        if visual_width(" = ".join(current + [text])) <= room:
            current.append(text)
            continue
        if current:
            lines.append({"rel": "=", "tex": " = ".join(current)})
            current = []
        if visual_width(text) <= room or not isinstance(item, Sum):
            current = [text]
            continue
        pieces = item.lines(room - 25)
        lines.append({"rel": "=", "tex": pieces[0]})
        lines.extend({"rel": "", "tex": r"\qquad " + piece} for piece in pieces[1:])
    if current:
        lines.append({"rel": "=", "tex": " = ".join(current)})
    return {"lhs": lhs, "lines": lines or [{"rel": "=", "tex": ""}], "note": note, "shared": False}


def partial(numerator: str, denominator: str, *, slash: bool = False) -> str:
    """``∂numerator/∂denominator`` as a fraction, or slashed (compact, for numeric steps)."""
    if slash:
        return rf"\partial {numerator} / \partial {denominator}"
    return rf"\frac{{\partial {numerator}}}{{\partial {denominator}}}"


def needs_parens(expr: sp.Expr) -> bool:
    return bool(expr.is_Add or (expr.is_Number and expr < 0) or
                (expr.is_Mul and expr.could_extract_minus_sign()))


class Namer:
    """How symbols print: by name (symbolic; ``generic`` writes example 1 as example n) or as
    formatted numbers (numeric)."""

    def __init__(self, generic: bool = False, values: dict[sp.Symbol, str] | None = None,
                 names: dict[sp.Symbol, str] | None = None):
        self.generic = generic
        self.values = values
        self.names = names or {}

    def rename(self, expr: sp.Expr) -> sp.Expr:
        if not self.generic:
            return expr
        return expr.xreplace({s: sp.Symbol(s.name[:-3] + "__n") for s in expr.free_symbols
                              if isinstance(s, sp.Symbol) and s.name.endswith("__1")})

    def tex(self, expr: sp.Expr) -> str:
        expr = sp.sympify(expr)
        if self.values is None:
            expr = self.rename(expr)
            names = {s: self.names[s] for s in expr.free_symbols if s in self.names}
            return to_latex(expr, names or None)
        missing = [s for s in expr.free_symbols if s not in self.values]
        if missing:
            raise KeyError(f"no value for {sorted(map(str, missing))}")
        return to_latex(expr, {s: number_tex(self.values[s]) for s in expr.free_symbols}, mul_symbol="dot",
                        bare_names={s: self.values[s] for s in expr.free_symbols})

    def member(self, expr: sp.Expr) -> str | Sum:
        """``expr`` as one member of a displayed chain: its LaTeX, or, for a number times a sum too
        long for a line (an average pool's ``(a + … + i)/9``), a :class:`ScaledSum` that can break."""
        text = self.tex(expr)
        factored = lecture_form(sp.sympify(expr))   # (a + … + i)/9, as it prints
        scale, rest = factored.as_coeff_Mul() if factored.is_Mul else (sp.Integer(1), factored)
        if visual_width(text) <= LINE_WIDTH / 2 or scale == 1 or not rest.is_Add:
            return text
        return ScaledSum([self.tex(t) for t in rest.as_ordered_terms()], scale=to_latex(scale))

    def factor(self, expr: sp.Expr) -> str:
        text = self.tex(expr)
        return rf"\left({text}\right)" if needs_parens(expr) else text

    @property
    def separator(self) -> str:
        return r" \cdot " if self.values is not None else r"\,"


def product_tex(factors: Sequence[Any], namer: Namer) -> str:
    """Factors (SymPy expressions, or ready LaTeX strings) side by side, 1s dropped.

    A lone factor is not parenthesised; in a product, sums and negatives are.
    """
    items, sign = [], ""
    for f in factors:
        if isinstance(f, str):
            items.append((f, f))
            continue
        f = sp.sympify(f)
        if f == 1:
            continue
        if f == -1:
            sign = "" if sign else "-"
            continue
        items.append((namer.tex(f), namer.factor(f)))
    if not items:
        return sign + "1"
    if len(items) == 1 and not sign:
        return items[0][0]
    return sign + namer.separator.join(paren for _, paren in items)


def sum_tex(terms: Sequence[str]) -> str:
    """Terms (LaTeX) joined with + (a term starting with a minus joins with −)."""
    out = ""
    for t in terms:
        if not out:
            out = t
        elif t.startswith("-"):
            out += " - " + t[1:].lstrip()
        else:
            out += " + " + t
    return out or "0"


def _is_sum(tex: str) -> bool:
    """Whether ``tex`` has a ``+`` or ``−`` outside every bracket (after a leading sign).

    >>> _is_sum("2 w + x"), _is_sum("-x"), _is_sum(r"\\left(a + b\\right) c"), _is_sum("x^{a - b}")
    (True, False, False, False)
    """
    depth = 0
    body = tex.lstrip().removeprefix("-")
    for i, ch in enumerate(body):
        depth += 1 if ch in "({[" else -1 if ch in ")}]" else 0
        if depth == 0 and ch in "+-" and i > 0 and body[i - 1] == " ":
            return True
    return False


def parenthesised(terms: Sequence[str]) -> str:  # noqa: D401
    """A sum as one factor: in parentheses when it has several terms, one term that is itself a
    sum (``η(2w + x)``, not ``η 2w + x``), or starts with a minus."""
    text = sum_tex(terms)
    needs = len(terms) > 1 or text.startswith("-") or _is_sum(text)
    return rf"\left({text}\right)" if needs else text


def broken_tex(expr: sp.Expr, width: float = LINE_WIDTH, max_lines: int = 4) -> list[str] | None:
    """LaTeX of ``expr`` in lines of at most ``width``: a long sum breaks between terms, a long
    product between factors. None when it cannot be broken into ``max_lines`` lines."""
    text = to_latex(expr)
    if visual_width(text) <= width:
        return [text]
    namer = Namer(False)
    if expr.is_Add:
        pieces = [to_latex(t) for t in expr.as_ordered_terms()]
        if any(visual_width(p) > width - 25 for p in pieces):
            return None
        lines = Sum(pieces).lines(width - 25)
    elif expr.is_Mul:
        coefficient, factors = expr.as_coeff_mul()
        pieces = [namer.factor(f) for f in factors]
        if coefficient != 1:
            pieces.insert(0, "-" if coefficient == -1 else to_latex(coefficient))
        if any(visual_width(p) > width - 25 for p in pieces):
            return None
        lines = factor_lines(pieces, width - 25, r"\,")
    else:
        return None
    return lines if len(lines) <= max_lines else None


def factor_lines(pieces: Sequence[str], width: float, joiner: str = r" \cdot ") -> list[str]:
    r"""Factors joined by ``joiner`` in lines of at most ``width`` (a lone ``-`` sticks to the
    next factor); each further line starts with ``\cdot``.

    >>> factor_lines(["a", "b"], 400.0)
    ['a \\cdot b']
    >>> factor_lines([r"\frac{1}{2}"] * 30, 100.0)[1].startswith(r"\cdot ")
    True
    """
    lines, current = [], ""
    for p in pieces:
        candidate = (current + joiner + p) if current and current != "-" else current + p
        if current and current != "-" and visual_width(candidate) > width:
            lines.append(current)
            current = r"\cdot " + p
        else:
            current = candidate
    lines.append(current)
    return lines


def pairs(rows: list[dict]) -> list[list[dict]] | None:
    """Single-line equations two to a line when they are short enough, else None."""
    if any(len(r["lines"]) > 1 or visual_width(r["lhs"] + r["lines"][0]["tex"]) > LINE_WIDTH / 2 - 20
           for r in rows):
        return None
    return [rows[i:i + 2] for i in range(0, len(rows), 2)]


def table_context(header: list[str], spec: str, rows: list[list[str]], font: str = "") -> dict:
    """A table for the ``table`` macro: header cells, column spec, rows of cells (all LaTeX), and
    a font size command for wide tables."""
    return {"header": header, "spec": spec, "rows": rows, "font": font}


def sci(value: float) -> str:
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:.2e}".split("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"

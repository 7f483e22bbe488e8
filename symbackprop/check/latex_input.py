r"""LaTeX answers → plain expression text for the allow-list parser. Nothing is evaluated.

Students write answers the way lectures print them: ``-\left(t_F - \mathrm{out}_F\right)
\cdot \mathrm{out}_F (1 - \mathrm{out}_F)``, ``\frac{1}{2}``, ``\sigma(\mathrm{net}_T)``,
``\delta_{T}``, ``w_{AT}``, ``e^{-x}``. :func:`latex_to_text` reads a small, fixed subset of
LaTeX math with a tokenizer and a recursive-descent parser and writes the same expression
as plain text (``-(t_F - out_F)*out_F*(1 - out_F)``), which then goes through
:func:`symbackprop.expressions.parse_expression` like any other answer. Unknown commands
(``\input``, ``\def``, ``\write``), unknown names and anything outside the subset are
refused with a one-line :class:`LatexError`; the converter itself never evaluates,
expands macros or reads files.

Names are recognised by comparison with the names the caller allows (:class:`NameTable`):
a name written plainly (``out_T``, ``w1_2_3``) or as symbackprop prints it
(``\mathrm{out}_{T}``, ``w^{(1)}_{2,3}``, ``\delta_{\alpha}``, ``W_{\lambda A}``,
``x_{1}^{(2)}``); font commands (``\mathrm``, ``\mathit``, ``\text``), braces and spaces do
not matter. Adjacent factors multiply (``2A\delta_T``, ``w_{TF}(1 - out)``) and a run of
letters that is not a name is split into names when exactly one split exists (``AB`` →
``A*B`` when ``A`` and ``B`` are names and ``AB`` is not); otherwise it is refused as
ambiguous.

The ReLU derivative ``\mathbf{1}[x > 0]`` (as symbackprop prints it) has no plain
spelling; it becomes a *placeholder* name whose argument text is returned separately, so
the caller parses the argument with the same allow-list and binds the placeholder to
``Heaviside(x, 0)``.

>>> table = NameTable(["out_T", "net_T", "delta_F", "w_TF", "A", "t_F"])
>>> latex_to_text(r"A \delta_F w_{TF} \mathrm{out}_{T}\left(1-\mathrm{out}_{T}\right)", table).text
'A*delta_F*w_TF*out_T*(1-out_T)'
>>> latex_to_text(r"\frac{1}{2}\sigma'(\mathrm{net}_T)", table).text
'((1)/(2))*(sigmoid(net_T)*(1 - sigmoid(net_T)))'
>>> latex_to_text(r"\input{/etc/passwd}", table).text
Traceback (most recent call last):
...
symbackprop.check.latex_input.LatexError: LaTeX command \input is not allowed (allowed: \frac, \cdot, \left( \right), \sigma, \exp, \log, \sqrt, Greek letters, ...)
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from ..expressions import LIMITS

__all__ = ["LatexError", "NameTable", "Converted", "latex_to_text", "looks_like_latex"]

MAX_DEPTH = 60

GREEK = (
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi "
    "pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta "
    "Lambda Xi Pi Sigma Upsilon Phi Psi Omega"
).split()
_GREEK_SET = set(GREEK)
FONT_COMMANDS = {"mathrm", "mathit", "text", "textrm", "textit", "mathbf", "boldsymbol", "operatorname",
                 "mathsf", "mathtt", "mathnormal", "textnormal", "bm"}
SPACING = {",", ";", ":", "!", " ", "quad", "qquad", "thinspace", "medspace", "thickspace", "negthinspace"}
SIZES = {"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr",
         "Biggl", "Biggr"}
MUL_COMMANDS = {"cdot", "times", "ast", "bullet", "cdotp"}
FUNCTION_COMMANDS = {"exp": "exp", "log": "log", "ln": "log", "tanh": "tanh", "sin": "sin", "cos": "cos",
                     "max": "max", "min": "min"}
FUNCTION_WORDS = {"exp": "exp", "log": "log", "ln": "log", "tanh": "tanh", "sin": "sin", "cos": "cos",
                  "sqrt": "sqrt", "sigmoid": "sigmoid", "relu": "relu", "ReLU": "relu", "abs": "abs",
                  "max": "max", "min": "min"}
TWO_ARGUMENTS = {"max", "min"}
BARE_ARGUMENT = {"exp", "log", "tanh", "sin", "cos"}  # \log x: the next factor is the argument
_ALLOWED_HINT = (r"\frac, \cdot, \left( \right), \sigma, \exp, \log, \sqrt, Greek letters, ...")


class LatexError(ValueError):
    """A LaTeX answer outside the supported subset; ``str()`` is one clear line."""

    def __init__(self, message: str):
        super().__init__(" ".join(message.split()))


def looks_like_latex(text: str) -> bool:
    r"""Whether an answer should be read as LaTeX: it has ``\``, braces or ``^``."""
    return any(ch in text for ch in "\\{}^$")


# ----------------------------------------------------------------------------- names

def _greek_name(ch: str) -> str | None:
    """``λ`` → ``lambda`` (Unicode Greek letters spelled as LaTeX spells them)."""
    name = unicodedata.name(ch, "")
    if not name.startswith("GREEK ") or " LETTER " not in name:
        return None
    letter = name.split(" LETTER ")[-1].lower().replace("lamda", "lambda")
    if letter.startswith("final "):
        letter = "varsigma"
    spelled = letter.capitalize() if "CAPITAL" in name else letter
    return spelled if spelled in _GREEK_SET else None


def _normal(text: str) -> str:
    """Greek letters spelled out; spaces removed (the form keys are compared in)."""
    out = []
    for ch in unicodedata.normalize("NFKC", text):
        if ch.isspace():
            continue
        out.append(_greek_name(ch) or ch)
    return "".join(out)


def _key(base: str, sub: str | None, sup: str | None) -> str:
    key = _normal(base)
    if sub:
        key += "_" + _normal(sub)
    if sup:
        key += "^" + _normal(sup)
    return key


def _loose(key: str) -> str:
    return "".join(ch for ch in key if ch not in "_(),^'")


class NameTable:
    """The names an answer may use, indexed by every spelling :func:`latex_to_text` accepts.

    Each name is indexed by its plain spelling and by the LaTeX symbackprop prints for it
    (``latex_names`` overrides that), and loosely with ``_ ( ) , ^`` dropped as a fallback
    (``W^{(1)}_{1,1}`` → ``w1_1_1`` when nothing else is spelled ``w111``). A spelling
    shared by two different names is *ambiguous* and refused when used; with ``names`` a
    mapping, names that stand for the same thing (``λ`` and ``lambda``) count as one.
    """

    def __init__(self, names: Iterable[str] | Mapping[str, object], latex_names: dict[str, str] | None = None):
        self.names = set(names)
        self._keys: dict[str, set[str]] = {}
        self._loose: dict[str, set[str]] = {}
        self._meaning = dict(names) if isinstance(names, Mapping) else {}
        for name in sorted(self.names):
            self._add(_key(name, None, None), name)
            printed = (latex_names or {}).get(name)
            if printed is None:
                printed = _default_latex(name)
            if printed:
                try:
                    atom = _parse_atom_text(printed)
                except LatexError:
                    atom = None
                if atom is not None:
                    self._add(_key(*atom), name)

    def _add(self, key: str, name: str) -> None:
        for table, k in ((self._keys, key), (self._loose, _loose(key))):
            found = table.setdefault(k, set())
            if not any(self._same(name, other) for other in found):  # λ and lambda meaning one thing
                found.add(name)

    def _same(self, a: str, b: str) -> bool:
        return a == b or (a in self._meaning and b in self._meaning and self._meaning[a] == self._meaning[b])

    def lookup(self, base: str, sub: str | None, sup: str | None) -> str | None:
        """The name spelled by ``base_{sub}^{sup}``, or ``None``; raises LatexError if ambiguous."""
        key = _key(base, sub, sup)
        tables = [(self._keys, key)] + ([(self._loose, _loose(key))] if sup is None else [])
        for table, k in tables:
            found = table.get(k)
            if found and len(found) == 1:
                return next(iter(found))
            if found:
                raise LatexError(f"'{key}' could mean {', '.join(sorted(found))}: write the name plainly")
        return None

    def split(self, word: str, sub: str | None, sup: str | None) -> list[list[str]]:
        """Every way to read the letter run ``word`` (with ``sub``/``sup`` on its last part) as
        a product of names (at most 2 ways are returned)."""
        found: list[list[str]] = []

        def prefixes(text: str) -> list[list[str]]:
            if not text:
                return [[]]
            out = []
            for i in range(1, len(text) + 1):
                name = self._exact(text[:i])
                if name is not None:
                    out += [[name] + rest for rest in prefixes(text[i:])][:2]
            return out[:2]

        for i in range(1, len(word)):
            last = self._exact(word[i:]) if sub is None and sup is None else self.lookup(word[i:], sub, sup)
            if last is None:
                continue
            for head in prefixes(word[:i]):
                found.append(head + [last])
                if len(found) > 1:
                    return found
        return found

    def _exact(self, text: str) -> str | None:
        found = self._keys.get(_key(text, None, None))
        return next(iter(found)) if found and len(found) == 1 else None


def _default_latex(name: str) -> str | None:
    try:
        from ..latex import latex_name
    except ImportError:  # pragma: no cover - the renderer is part of the package
        return None
    try:
        return latex_name(name)
    except Exception:  # noqa: BLE001 - a name the printer cannot spell is matched plainly only
        return None


# ----------------------------------------------------------------------------- tokens

@dataclass(frozen=True)
class _Tok:
    kind: str   # cmd, word, num, char, sym (control symbol like \, \{ \|), end
    value: str
    pos: int


_TOKEN = re.compile(r"""
    (?P<cmd>\\[A-Za-z]+)
  | (?P<sym>\\[^A-Za-z])
  | (?P<num>\d+(?:\.\d*)?|\.\d+)
  | (?P<word>[^\W\d_][^\W_]*)
  | (?P<space>\s+)
  | (?P<char>.)
""", re.VERBOSE | re.UNICODE | re.DOTALL)


def _tokenize(text: str) -> list[_Tok]:
    tokens = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "space":
            continue
        value = m.group()
        if kind == "cmd":
            value = value[1:]
        elif kind == "sym":
            value = value[1:]
            if value in SPACING or value == "\n":
                continue
        elif kind == "char" and value == "~":
            continue
        elif kind == "char" and (value in "&#%$@;?\"`:" or ord(value) < 32 or value == "\x7f"):
            raise LatexError(f"character {value!r} is not allowed in an answer (column {m.start() + 1})")
        tokens.append(_Tok(kind, value, m.start()))
    tokens.append(_Tok("end", "", len(text)))
    return tokens


# ----------------------------------------------------------------------------- output

@dataclass
class Converted:
    """Plain expression text, plus placeholder names standing for ``Heaviside(arg, h0)``.

    ``placeholders`` maps each placeholder name to ``(function, argument texts)``, in the
    order they were made (inner ones first), for the caller to parse and bind.
    """

    text: str
    placeholders: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)


class _Parser:
    def __init__(self, tokens: list[_Tok], table: NameTable, source: str, placeholders: dict):
        self.toks, self.i, self.table, self.source = tokens, 0, table, source
        self.depth = 0
        self.placeholders = placeholders

    # -- helpers
    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def peek(self, n: int = 1) -> _Tok:
        return self.toks[min(self.i + n, len(self.toks) - 1)]

    def advance(self) -> _Tok:
        t = self.toks[self.i]
        self.i = min(self.i + 1, len(self.toks) - 1)
        return t

    def fail(self, message: str, tok: _Tok | None = None) -> LatexError:
        tok = tok or self.tok
        where = f" at column {tok.pos + 1}" if tok.kind != "end" else " at the end"
        return LatexError(f"{message}{where}")

    def is_char(self, value: str, tok: _Tok | None = None) -> bool:
        tok = tok or self.tok
        return tok.kind == "char" and tok.value == value

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise LatexError(f"nested too deeply (more than {MAX_DEPTH} levels)")

    # -- delimiters
    @staticmethod
    def _sized(tok: _Tok, opening: bool) -> bool:
        if tok.kind != "cmd" or tok.value not in SIZES:
            return False
        closing_size = tok.value == "right" or tok.value.endswith("r")
        return closing_size != opening

    @staticmethod
    def _delimiter_closing(tok: _Tok, sized: bool = False) -> str | None:
        if tok.kind == "char" and tok.value in "([":
            return {"(": ")", "[": "]"}[tok.value]
        if tok.kind == "char" and tok.value == "|" and sized:
            return "|"
        if tok.kind == "sym" and tok.value == "{":
            return "}"
        if tok.kind == "cmd" and tok.value in ("lbrack", "lparen"):
            return "]" if tok.value == "lbrack" else ")"
        if tok.kind == "cmd" and tok.value in ("lvert", "vert"):
            return "|"
        return None

    def starts_delimiter(self) -> bool:
        if self._sized(self.tok, True):
            return self._delimiter_closing(self.peek(), sized=True) is not None
        return self._delimiter_closing(self.tok) is not None

    def open_delimiter(self) -> str:
        """Consume an opening delimiter (``(``, ``\\left[``, ``\\{``, ``\\lvert`` ...); its closing kind."""
        if self._sized(self.tok, True):
            sizing = self.advance()
            closing = self._delimiter_closing(self.tok, sized=True)
            if closing is None:
                raise self.fail(f"\\{sizing.value} must be followed by ( [ \\{{ or |")
        else:
            closing = self._delimiter_closing(self.tok)
            if closing is None:
                raise self.unexpected()
        self.advance()
        return closing

    def close_delimiter(self, closing: str) -> None:
        if self._sized(self.tok, False):
            self.advance()
        tok = self.tok
        ok = ((tok.kind == "char" and tok.value == closing and closing in ")]|")
              or (tok.kind == "sym" and tok.value == "}" and closing == "}")
              or (tok.kind == "cmd" and closing == "]" and tok.value == "rbrack")
              or (tok.kind == "cmd" and closing == ")" and tok.value == "rparen")
              or (tok.kind == "cmd" and closing == "|" and tok.value in ("rvert", "vert")))
        if not ok:
            shown = "\\}" if closing == "}" else closing
            raise self.fail(f"expected '{shown}'")
        self.advance()

    # -- grammar
    def parse(self) -> str:
        text = self.expr()
        if self.tok.kind != "end":
            raise self.unexpected()
        return text

    def unexpected(self) -> LatexError:
        tok = self.tok
        if tok.kind == "cmd":
            return self.command_error(tok)
        if tok.kind == "char" and tok.value == "=":
            return self.fail("'=' is not allowed: write only the expression")
        if tok.kind == "char" and tok.value in "<>":
            return self.fail(f"comparison '{tok.value}' is only allowed inside \\mathbf{{1}}[...]")
        if tok.kind == "char" and tok.value in ")]}":
            return self.fail(f"unmatched '{tok.value}'")
        if tok.kind == "sym" and tok.value == "}":
            return self.fail(r"unmatched '\}'")
        if tok.kind == "end":
            return self.fail("unexpected end of the expression")
        shown = tok.value if tok.kind != "sym" else "\\" + tok.value
        return self.fail(f"'{shown}' is not allowed here")

    def command_error(self, tok: _Tok) -> LatexError:
        return LatexError(f"LaTeX command \\{tok.value} is not allowed (allowed: {_ALLOWED_HINT})")

    def expr(self) -> str:
        self.enter()
        parts = []
        if self.is_char("+") or self.is_char("-"):
            sign = self.advance().value
            parts.append("-" if sign == "-" else "")
        parts.append(self.term())
        while self.is_char("+") or self.is_char("-") or (self.tok.kind == "cmd" and self.tok.value == "pm"):
            if self.tok.kind == "cmd":
                raise self.fail(r"\pm is not allowed")
            parts.append(self.advance().value)
            parts.append(self.term())
        self.depth -= 1
        return "".join(parts)

    def term(self) -> str:
        factors = [self.factor()]
        last_was_number = factors[0].lstrip("-").replace(".", "").isdigit()
        while True:
            tok = self.tok
            if self.is_char("*") or (tok.kind == "cmd" and tok.value in MUL_COMMANDS):
                self.advance()
                factors.append("*")
                factors.append(self.factor())
                last_was_number = False
            elif self.is_char("/") or (tok.kind == "cmd" and tok.value == "div"):
                self.advance()
                factors.append("/")
                factors.append(self.factor())
                last_was_number = False
            elif self.starts_primary():
                if last_was_number and self.tok.kind == "num":
                    raise self.fail("two numbers side by side: write * between them")
                factors.append("*")
                text = self.power()
                factors.append(text)
                last_was_number = text.replace(".", "").isdigit()
            else:
                break
        return "".join(factors)

    def starts_primary(self) -> bool:
        tok = self.tok
        if tok.kind in ("num", "word"):
            return True
        if tok.kind == "char" and tok.value in "([":
            return True
        if tok.kind == "char" and tok.value == "{":
            return True
        if tok.kind == "sym" and tok.value == "{":
            return True
        if tok.kind == "cmd":
            if tok.value in SIZES:
                return tok.value != "right" and not tok.value.endswith("r")
            return tok.value not in MUL_COMMANDS and tok.value not in ("div", "pm", "geq", "ge", "gt", "leq",
                                                                       "le", "lt", "rvert", "rbrack", "rparen")
        return False

    def factor(self) -> str:
        if self.is_char("-"):
            self.advance()
            return "(-" + self.factor() + ")"
        if self.is_char("+"):
            self.advance()
            return self.factor()
        return self.power()

    def power(self) -> str:
        self.enter()
        base = self.primary()
        while self.is_char("^"):
            self.advance()
            exponent = self.script_expression()
            base = f"({base})**({exponent})"
        self.depth -= 1
        return base

    def script_expression(self) -> str:
        """A superscript used as an exponent: ``{...}`` or one token."""
        if self.is_char("{"):
            return self.braced()
        tok = self.tok
        if tok.kind == "num":
            return self.split_number()
        if tok.kind == "word" and len(tok.value) > 1:
            self.toks[self.i] = _Tok("word", tok.value[1:], tok.pos + 1)
            sub = _Parser([_Tok("word", tok.value[0], tok.pos), _Tok("end", "", tok.pos + 1)],
                          self.table, self.source, self.placeholders)
            return sub.primary()
        if self.is_char("-"):
            raise self.fail("put a negative exponent in braces: ^{-1}")
        return self.primary()

    def braced(self) -> str:
        """``{...}``: the expression inside the braces (the current token is ``{``)."""
        self.advance()
        text = self.expr()
        if not self.is_char("}"):
            raise self.fail("expected '}'")
        self.advance()
        return text

    def split_number(self) -> str:
        """One digit of a number token (``^23`` is ``^2`` then ``3`` in LaTeX)."""
        tok = self.tok
        if len(tok.value) == 1:
            self.advance()
            return tok.value
        self.toks[self.i] = _Tok("num", tok.value[1:], tok.pos + 1)
        return tok.value[0]

    def group_or_token(self, what: str) -> str:
        """The argument of \\frac, \\sqrt: ``{...}`` or a single token."""
        if self.is_char("{"):
            return self.braced()
        tok = self.tok
        if tok.kind == "num":
            return self.split_number()
        if tok.kind == "word":
            if len(tok.value) > 1:
                self.toks[self.i] = _Tok("word", tok.value[1:], tok.pos + 1)
                return self.single_word(tok.value[0], tok)
            self.advance()
            return self.single_word(tok.value, tok)
        if tok.kind == "cmd":
            return self.primary()
        raise self.fail(f"{what} needs an argument in braces")

    def single_word(self, letter: str, tok: _Tok) -> str:
        name = self.table.lookup(letter, None, None)
        if name is None:
            raise LatexError(f"unknown name '{letter}' at column {tok.pos + 1}")
        return name

    def primary(self) -> str:
        tok = self.tok
        if tok.kind == "num":
            self.advance()
            return tok.value
        closing = self.open_delimiter() if self.starts_delimiter() else None
        if closing is not None:
            inner = self.expr()
            self.close_delimiter(closing)
            return f"abs({inner})" if closing == "|" else f"({inner})"
        if tok.kind == "char" and tok.value == "{":
            self.advance()
            inner = self.atom_in_braces() if self._braced_atom() else None
            if inner is not None:
                return inner
            text = self.expr()
            if not self.is_char("}"):
                raise self.fail("expected '}'")
            self.advance()
            return f"({text})"
        if tok.kind == "char" and tok.value == "|":
            raise self.fail(r"write absolute values as \left| ... \right|")
        if tok.kind == "cmd" and tok.value in ("left", "right") or (tok.kind == "cmd" and tok.value in SIZES):
            raise self.fail(f"\\{tok.value} must go with a delimiter")
        if tok.kind == "cmd":
            return self.command()
        if tok.kind == "word":
            return self.word_atom()
        raise self.unexpected()

    def _braced_atom(self) -> bool:
        """``{w_{TF}}^{+}``: a braced name followed by a superscript (symbackprop's updated weight)."""
        depth, j = 1, self.i
        while j < len(self.toks) and depth:
            t = self.toks[j]
            if t.kind == "char" and t.value == "{":
                depth += 1
            elif t.kind == "char" and t.value == "}":
                depth -= 1
            j += 1
        return depth == 0 and j < len(self.toks) and self.is_char("^", self.toks[j])

    def atom_in_braces(self) -> str | None:
        start = self.i
        try:
            base, sub = self.atom_head()
            if not self.is_char("}"):
                raise LatexError("not a name")
            self.advance()
            sup_tokens = None
            if self.is_char("^"):
                self.advance()
                sup_tokens = self.script_tokens()
            sup = _tokens_text(sup_tokens) if sup_tokens is not None else None
            name = self.table.lookup(base, sub, sup) if sup is not None else None
            if name is not None:
                return name
        except LatexError:
            pass
        self.i = start
        return None

    def atom_head(self) -> tuple[str, str | None]:
        """A name's base and subscript (raw text); no lookup."""
        tok = self.tok
        if tok.kind == "word":
            self.advance()
            base = tok.value
        elif tok.kind == "cmd" and tok.value in _GREEK_SET:
            self.advance()
            base = tok.value
        elif tok.kind == "cmd" and tok.value in FONT_COMMANDS:
            self.advance()
            base = self.font_argument()
        else:
            raise LatexError("not a name")
        sub = None
        if self.is_char("_"):
            self.advance()
            sub = self.subscript_text()
        return base, sub

    def font_argument(self) -> str:
        if not self.is_char("{"):
            tok = self.tok
            if tok.kind == "word":
                self.advance()
                return tok.value
            raise self.fail("expected '{' after a font command")
        self.advance()
        out = []
        while not self.is_char("}"):
            tok = self.advance()
            if tok.kind in ("word", "num"):
                out.append(tok.value)
            elif tok.kind == "cmd" and tok.value in _GREEK_SET:
                out.append(tok.value)
            elif tok.kind == "char" and tok.value in "_-'":
                out.append(tok.value)
            elif tok.kind == "end":
                raise self.fail("expected '}'", tok)
            else:
                raise self.fail("only letters are allowed in \\mathrm{...} and similar", tok)
        self.advance()
        return "".join(out)

    def subscript_text(self) -> str:
        """The raw text of a subscript: ``{...}`` (flattened), or a run like ``AT`` / ``h1_1``."""
        if self.is_char("{"):
            return _tokens_text(self.script_tokens())
        tok = self.tok
        text = ""
        if self.is_char("_") and self.peek().kind in ("word", "num"):  # x1__2 written plainly
            self.advance()
            text = "_"
            tok = self.tok
        if tok.kind in ("word", "num"):
            self.advance()
            text += tok.value
            while self.is_char("_"):  # w1_2_3, delta_h1_1, out_T__2
                if self.peek().kind in ("word", "num"):
                    self.advance()
                    text += "_" + self.advance().value
                elif self.is_char("_", self.peek()) and self.peek(2).kind in ("word", "num"):
                    self.advance()
                    self.advance()
                    text += "__" + self.advance().value
                else:
                    break
            return text
        if tok.kind == "cmd" and tok.value in _GREEK_SET:
            self.advance()
            return tok.value
        raise self.fail("a subscript must be letters or digits")

    def script_tokens(self) -> list[_Tok]:
        """The tokens of ``{...}`` (balanced) or of one token, consumed."""
        if self.is_char("{"):
            self.advance()
            depth, out = 1, []
            while True:
                tok = self.advance()
                if tok.kind == "end":
                    raise self.fail("expected '}'", tok)
                if tok.kind == "char" and tok.value == "{":
                    depth += 1
                elif tok.kind == "char" and tok.value == "}":
                    depth -= 1
                    if depth == 0:
                        return out
                out.append(tok)
        tok = self.advance()
        if tok.kind == "end":
            raise self.fail("a script needs a value", tok)
        return [tok]

    def word_atom(self) -> str:
        tok = self.tok
        word = tok.value
        if word in FUNCTION_WORDS and self._call_follows(1):
            self.advance()
            return self.call(FUNCTION_WORDS[word], tok)
        return self.named_atom()

    def _call_follows(self, offset: int) -> bool:
        nxt = self.peek(offset)
        if nxt.kind == "char" and nxt.value in "([":
            return True
        if nxt.kind == "cmd" and nxt.value in SIZES:
            return True
        return False

    def named_atom(self) -> str:
        """A name with its scripts; ``^`` that is not part of a name is a power (left to the caller)."""
        tok = self.tok
        base, sub = self.atom_head()
        sup_start = self.i
        sup_tokens = None
        if self.is_char("^"):
            self.advance()
            sup_tokens = self.script_tokens()
            if sub is None and self.is_char("_"):  # x^{(2)}_{1}
                self.advance()
                sub = self.subscript_text()
        if sup_tokens is not None:
            sup = _tokens_text(sup_tokens)
            name = self.table.lookup(base, sub, sup) if sup is not None else None
            if name is not None:
                return name
            self.i = sup_start  # not part of a name: a power, parsed by power()
        name = self.table.lookup(base, sub, None)
        if name is not None:
            return name
        if base == "e" and sub is None and self.is_char("^"):
            self.advance()
            return f"exp({self.script_expression()})"
        if tok.kind == "word" and len(base) > 1:
            ways = self.table.split(base, sub, None)
            if len(ways) == 1:
                return "*".join(ways[0])
            if len(ways) > 1:
                options = " or ".join("·".join(w) for w in ways)
                raise LatexError(f"'{base}' is ambiguous ({options}); separate the names")
        shown = base + (f"_{{{sub}}}" if sub else "")
        raise LatexError(f"unknown name '{shown}' at column {tok.pos + 1}")

    def command(self) -> str:
        tok = self.tok
        name = tok.value
        if name in ("frac", "dfrac", "tfrac", "cfrac"):
            self.advance()
            num = self.group_or_token(r"\frac")
            den = self.group_or_token(r"\frac")
            return f"(({num})/({den}))"
        if name == "sqrt":
            self.advance()
            if self.is_char("["):
                raise self.fail(r"only square roots: \sqrt{...}")
            argument = self.group_or_token("\\sqrt")
            return f"sqrt({argument})"
        if name in FUNCTION_COMMANDS:
            self.advance()
            return self.call(FUNCTION_COMMANDS[name], tok)
        if name == "sigma" and self.table.lookup("sigma", None, None) is None:
            if self._sigma_call():
                self.advance()
                return self.call("sigmoid", tok)
        if name in ("mathbf", "mathbb", "mathds", "mathbbm", "boldsymbol", "mathrm") and self._indicator():
            return self.indicator()
        if name == "operatorname" or name in FONT_COMMANDS:
            start = self.i
            self.advance()
            word = self.font_argument()
            if word in FUNCTION_WORDS and self._call_follows(0):
                return self.call(FUNCTION_WORDS[word], tok)
            if word == "e" and self.is_char("^"):
                self.advance()
                return f"exp({self.script_expression()})"
            self.i = start
            return self.named_atom()
        if name in _GREEK_SET:
            return self.named_atom()
        raise self.command_error(tok)

    def _sigma_call(self) -> bool:
        nxt = self.peek()
        if nxt.kind == "char" and nxt.value in "'^":
            return True
        return self._call_follows(1)

    def _indicator(self) -> bool:
        """``\\mathbf{1}[...]``, ``\\mathbb{1}_{...}``: the indicator of ``x > 0`` (ReLU′)."""
        return (self.is_char("{", self.peek()) and self.peek(2).kind == "num" and self.peek(2).value == "1"
                and self.is_char("}", self.peek(3)))

    def indicator(self) -> str:
        start = self.tok
        for _ in range(4):
            self.advance()
        if self.is_char("_"):
            self.advance()
            if not self.is_char("{"):
                raise self.fail("write the condition in braces: \\mathbf{1}_{x > 0}")
            self.advance()
            closing = "}"
        else:
            closing = self.open_delimiter() if self.starts_delimiter() else None
            if closing is None:
                raise self.fail("\\mathbf{1} must be followed by [condition]", start)
        argument = self.expr()
        tok = self.tok
        if tok.kind == "char" and tok.value == ">":
            self.advance()
            h0 = "0"
        elif tok.kind == "cmd" and tok.value in ("geq", "ge"):
            self.advance()
            h0 = "1"
        elif tok.kind == "cmd" and tok.value == "gt":
            self.advance()
            h0 = "0"
        else:
            raise self.fail("the condition must read 'x > 0' or 'x \\geq 0'")
        zero = self.expr()
        if zero.strip("() ") != "0":
            raise self.fail("the condition must compare with 0")
        if closing == "}":
            if not self.is_char("}"):
                raise self.fail("expected '}'")
            self.advance()
        else:
            self.close_delimiter(closing)
        return self.placeholder("heaviside", (argument, h0))

    def placeholder(self, function: str, args: tuple[str, ...]) -> str:
        n = len(self.placeholders) + 1
        name = f"indicator{n}"
        while name in self.table.names or name in self.placeholders:
            n += 1
            name = f"indicator{n}"
        self.placeholders[name] = (function, args)
        return name

    def call(self, function: str, tok: _Tok) -> str:
        """A function's scripts (``'``, ``^{\\prime}``, ``^{2}``) and its argument(s)."""
        derivative = False
        exponent = None
        while True:
            if self.is_char("'"):
                self.advance()
                if derivative:
                    raise self.fail("only first derivatives (one ')")
                derivative = True
            elif self.is_char("^"):
                self.advance()
                if self.tok.kind == "cmd" and self.tok.value == "prime" or (
                        self.is_char("{") and self.peek().kind == "cmd" and self.peek().value == "prime"):
                    tokens = self.script_tokens()
                    if len(tokens) != 1:
                        raise self.fail("write the derivative as ' or ^{\\prime}")
                    derivative = True
                else:
                    exponent = self.script_expression()
            else:
                break
        if derivative and function != "sigmoid":
            raise LatexError(f"the derivative of {function} is not supported; write it out")
        args = self.arguments(function, tok)
        if derivative and len(args[0]) > LIMITS["max_length"] // 2:  # σ′ writes its argument twice
            raise LatexError(f"answer too long once converted (max_length is {LIMITS['max_length']})")
        if derivative:
            call = f"(sigmoid({args[0]})*(1 - sigmoid({args[0]})))"
        else:
            call = f"{function}({', '.join(args)})"
        return f"({call})**({exponent})" if exponent is not None else call

    def arguments(self, function: str, tok: _Tok) -> list[str]:
        if self.starts_delimiter():
            closing = self.open_delimiter()
            args = [self.expr()]
            while self.is_char(","):
                self.advance()
                args.append(self.expr())
            self.close_delimiter(closing)
        elif self.is_char("{"):
            self.advance()
            args = [self.expr()]
            if not self.is_char("}"):
                raise self.fail("expected '}'")
            self.advance()
        elif function in BARE_ARGUMENT and self.starts_primary():
            args = [self.power()]
        else:
            raise self.fail(f"{function} needs its argument in parentheses", tok)
        wanted = 2 if function in TWO_ARGUMENTS else 1
        if len(args) != wanted:
            raise LatexError(f"{function} takes {wanted} argument{'s' if wanted > 1 else ''}, got {len(args)}")
        return args


def _tokens_text(tokens: list[_Tok] | None) -> str | None:
    """Flatten script tokens to the text used in name keys, or None if not name-like."""
    if tokens is None:
        return None
    out = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.kind in ("word", "num"):
            out.append(tok.value)
        elif tok.kind == "cmd" and tok.value in _GREEK_SET:
            out.append(tok.value)
        elif tok.kind == "cmd" and tok.value in FONT_COMMANDS:
            pass  # its braces are dropped below; the letters stay
        elif tok.kind == "char" and tok.value in "{}":
            pass
        elif tok.kind == "char" and tok.value in "_^,()+'":
            out.append(tok.value if tok.value not in "^" else "")
        elif tok.kind == "cmd" and tok.value == "prime":
            out.append("'")
        else:
            return None
        i += 1
    text = "".join(out)
    return text.replace("_", "") if text else None


def _parse_atom_text(printed: str) -> tuple[str, str | None, str | None] | None:
    """(base, sub, sup) of a printed name such as ``\\mathrm{out}_{T}`` or ``{w_{TF}}^{+}``."""
    toks = _tokenize(printed)
    p = _Parser(toks, NameTable([]), printed, {})
    braced = p.is_char("{")
    if braced:
        p.advance()
    base, sub = p.atom_head()
    if braced:
        if not p.is_char("}"):
            return None
        p.advance()
    sup = None
    if p.is_char("^"):
        p.advance()
        sup = _tokens_text(p.script_tokens())
        if sup is None:
            return None
        if sub is None and p.is_char("_"):
            p.advance()
            sub = p.subscript_text()
    if p.tok.kind != "end":
        return None
    if sub is not None:
        sub = sub.replace("_", "")
    return base, sub, sup


def _strip_math_delimiters(text: str) -> str:
    s = text.strip()
    for opening, closing in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if s.startswith(opening) and s.endswith(closing) and len(s) >= len(opening) + len(closing):
            return s[len(opening):len(s) - len(closing)]
    return s


def latex_to_text(source: str, table: NameTable) -> Converted:
    """Convert a LaTeX answer to plain expression text (see the module docstring).

    Raises :class:`LatexError` (one line) for anything outside the subset; the input is
    checked against ``LIMITS["max_length"]`` before it is read at all.
    """
    if not isinstance(source, str):
        raise LatexError(f"expected text, got {type(source).__name__}")
    if len(source) > LIMITS["max_length"]:
        raise LatexError(f"answer too long ({len(source)} characters; max_length is {LIMITS['max_length']})")
    text = _strip_math_delimiters(source)
    if not text.strip():
        raise LatexError("empty answer")
    placeholders: dict[str, tuple[str, tuple[str, ...]]] = {}
    parser = _Parser(_tokenize(text), table, text, placeholders)
    try:
        result = parser.parse()
    except RecursionError:
        raise LatexError(f"nested too deeply (more than {MAX_DEPTH} levels)") from None
    return Converted(result, placeholders)

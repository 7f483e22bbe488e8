"""The recursive-descent parser: LaTeX tokens → plain expression text (nothing is evaluated)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...expressions import LIMITS
from .atoms import AtomRules
from .cases import CaseRules
from .commands import CommandRules

if TYPE_CHECKING:
    from .names import NameTable
from .grammar import ALLOWED_HINT, MAX_DEPTH, MUL_COMMANDS, SIZES, LatexError
from .lexer import Token, tokenize, tokens_text


@dataclass
class Converted:
    """Plain expression text for :func:`~symbackprop.expressions.parse_expression` with
    :data:`~symbackprop.expressions.ANSWER_FUNCTIONS` (it may call ``Heaviside``, ``Piecewise`` ...)."""

    text: str


class Parser(AtomRules, CommandRules, CaseRules):
    """Recursive descent over the tokens of one answer; ``parse()`` returns the plain text."""

    def __init__(self, tokens: list[Token], table: NameTable, source: str):
        self.toks, self.i, self.table, self.source = tokens, 0, table, source
        self.depth = 0

    # -- helpers
    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def peek(self, n: int = 1) -> Token:
        return self.toks[min(self.i + n, len(self.toks) - 1)]

    def advance(self) -> Token:
        t = self.toks[self.i]
        self.i = min(self.i + 1, len(self.toks) - 1)
        return t

    def fail(self, message: str, tok: Token | None = None) -> LatexError:
        tok = tok or self.tok
        where = f" at column {tok.pos + 1}" if tok.kind != "end" else " at the end"
        return LatexError(f"{message}{where}")

    def is_char(self, value: str, tok: Token | None = None) -> bool:
        tok = tok or self.tok
        return tok.kind == "char" and tok.value == value

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise LatexError(f"nested too deeply (more than {MAX_DEPTH} levels)")

    # -- delimiters
    @staticmethod
    def _sized(tok: Token, opening: bool) -> bool:
        if tok.kind != "cmd" or tok.value not in SIZES:
            return False
        closing_size = tok.value == "right" or tok.value.endswith("r")
        return closing_size != opening

    @staticmethod
    def _delimiter_closing(tok: Token, sized: bool = False) -> str | None:
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
        if tok.kind == "char" and tok.value == "&":
            return LatexError(f"character '&' is not allowed in an answer outside \\begin{{cases}} "
                              f"(column {tok.pos + 1})")
        if tok.kind == "char" and tok.value in ")]}":
            return self.fail(f"unmatched '{tok.value}'")
        if tok.kind == "sym" and tok.value == "}":
            return self.fail(r"unmatched '\}'")
        if tok.kind == "end":
            return self.fail("unexpected end of the expression")
        shown = tok.value if tok.kind != "sym" else "\\" + tok.value
        return self.fail(f"'{shown}' is not allowed here")

    def command_error(self, tok: Token) -> LatexError:
        return LatexError(f"LaTeX command \\{tok.value} is not allowed (allowed: {ALLOWED_HINT})")

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
                                                                       "le", "lt", "rvert", "rbrack", "rparen",
                                                                       "end")
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
            self.toks[self.i] = Token("word", tok.value[1:], tok.pos + 1)
            sub = Parser([Token("word", tok.value[0], tok.pos), Token("end", "", tok.pos + 1)],
                          self.table, self.source)
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
        self.toks[self.i] = Token("num", tok.value[1:], tok.pos + 1)
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
                self.toks[self.i] = Token("word", tok.value[1:], tok.pos + 1)
                return self.single_word(tok.value[0], tok)
            self.advance()
            return self.single_word(tok.value, tok)
        if tok.kind == "cmd":
            return self.primary()
        raise self.fail(f"{what} needs an argument in braces")

    def single_word(self, letter: str, tok: Token) -> str:
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


def parse_atom_text(printed: str) -> tuple[str, str | None, str | None] | None:
    """(base, sub, sup) of a printed name such as ``\\mathrm{out}_{T}`` or ``{w_{TF}}^{+}``."""
    toks = tokenize(printed)
    p = Parser(toks, None, printed)  # reading a printed name looks up no names
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
        sup = tokens_text(p.script_tokens())
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


def strip_math_delimiters(text: str) -> str:
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
    text = strip_math_delimiters(source)
    if not text.strip():
        raise LatexError("empty answer")
    parser = Parser(tokenize(text), table, text)
    try:
        result = parser.parse()
    except RecursionError:
        raise LatexError(f"nested too deeply (more than {MAX_DEPTH} levels)") from None
    if len(result) > LIMITS["max_length"]:
        raise LatexError(f"answer too long once converted ({len(result)} characters of plain text; "
                         f"max_length is {LIMITS['max_length']})")
    return Converted(result)

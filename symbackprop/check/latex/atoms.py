"""Parser rules for atoms: names with sub- and superscripts, font commands, letter runs."""
from __future__ import annotations

from .grammar import FONT_COMMANDS, FUNCTION_WORDS, GREEK_SET, SIZES, LatexError
from .lexer import Token, tokens_text


class AtomRules:
    """The atom rules of :class:`~symbackprop.check.latex.parser.Parser` (a mixin)."""

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
            sup = tokens_text(sup_tokens) if sup_tokens is not None else None
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
        elif tok.kind == "cmd" and tok.value in GREEK_SET:
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
            elif tok.kind == "cmd" and tok.value in GREEK_SET:
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
            return tokens_text(self.script_tokens())
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
        if tok.kind == "cmd" and tok.value in GREEK_SET:
            self.advance()
            return tok.value
        raise self.fail("a subscript must be letters or digits")

    def script_tokens(self) -> list[Token]:
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
            sup = tokens_text(sup_tokens)
            name = self.table.lookup(base, sub, sup) if sup is not None else None
            if name is not None:
                return name
            self.i = sup_start  # not part of a name: a power, parsed by power()
        name = self.table.lookup(base, sub, None)
        if name is not None:
            return name
        if base == "e" and sub is None:  # e^{x}, and e (as SymPy prints exp(1))
            if not self.is_char("^"):
                return "exp(1)"
            self.advance()
            return f"exp({self.script_expression()})"
        if tok.kind == "word" and len(base) > 1:
            ways = self.table.split(base, sub, None)
            if len(ways) == 1:
                return "*".join(ways[0])
            if len(ways) > 1:
                options = " or ".join(_clip("·".join(w)) for w in ways)
                raise LatexError(f"'{_clip(base)}' is ambiguous ({options}); separate the names")
        shown = _clip(base) + (f"_{{{_clip(sub)}}}" if sub else "")
        if sup_tokens is not None and tokens_text(sup_tokens) == "+":
            shown = f"{{{shown}}}^{{+}}"  # an updated weight: not an answer's name
        raise LatexError(f"unknown name '{shown}' at column {tok.pos + 1}")


def _clip(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters (a letter run in a message stays readable)."""
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"

r"""Parser rules for ``\begin{cases} ... \end{cases}`` (SymPy's Piecewise) and their conditions.

SymPy prints ``Piecewise((1, x > 0), (alpha, True))`` as ``\begin{cases} 1 & \text{for}\: x > 0
\\ \alpha & \text{otherwise} \end{cases}``; the rules read that back as the same Piecewise.
"""
from __future__ import annotations

from .grammar import FONT_COMMANDS, RELATIONS


class CaseRules:
    """The case rules of :class:`~symbackprop.check.latex.parser.Parser` (a mixin)."""

    def cases(self) -> str:
        """``\\begin{cases} value & condition \\\\ ... \\end{cases}`` → ``Piecewise((value, condition), ...)``."""
        self.environment("begin")
        pieces = []
        while True:
            value = self.expr()
            if not self.is_char("&"):
                raise self.fail("expected '&' between the value of a case and its condition")
            self.advance()
            pieces.append(f"({value}, {self.condition()})")
            if not (self.tok.kind == "sym" and self.tok.value == "\\"):
                break
            self.advance()
            if self.tok.kind == "cmd" and self.tok.value == "end":  # a trailing \\ before \end{cases}
                break
        self.environment("end")
        return f"Piecewise({', '.join(pieces)})"

    def environment(self, command: str) -> None:
        """``\\begin{cases}`` or ``\\end{cases}`` (no other environment)."""
        if not (self.tok.kind == "cmd" and self.tok.value == command):
            raise self.fail(f"expected \\{command}{{cases}}")
        self.advance()
        if not (self.is_char("{") and self.peek().kind == "word" and self.peek().value == "cases"
                and self.is_char("}", self.peek(2))):
            raise self.fail(f"only the cases environment is allowed: \\{command}{{cases}}")
        for _ in range(3):
            self.advance()

    def condition(self) -> str:
        """``\\text{for}\\: x > 0`` (the words are optional) or ``\\text{otherwise}`` (→ ``True``)."""
        if self.tok.kind == "cmd" and self.tok.value in FONT_COMMANDS:
            start = self.i
            self.advance()
            word = self.font_argument()
            if word == "otherwise":
                return "True"
            if word not in ("for", "if"):
                self.i = start
        left = self.expr()
        relation = self.relation()
        return f"({left}) {relation} ({self.expr()})"

    def relation(self) -> str:
        """``>``, ``<``, ``\\geq``, ``\\leq`` ... as the plain operator (consumed)."""
        tok = self.tok
        if tok.kind in ("char", "cmd") and tok.value in RELATIONS:
            self.advance()
            if tok.value in "<>" and self.is_char("="):  # x >= 0 written plainly
                self.advance()
                return tok.value + "="
            return RELATIONS[tok.value]
        raise self.fail("a condition compares with >, <, \\geq or \\leq")

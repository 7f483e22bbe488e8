"""Parser rules for LaTeX commands: functions, fractions, indicators, calls and their arguments."""
from __future__ import annotations

from ...expressions import LIMITS
from .grammar import (
    ARITY,
    BARE_ARGUMENT,
    FONT_COMMANDS,
    FUNCTION_COMMANDS,
    FUNCTION_WORDS,
    GREEK_SET,
    LatexError,
)
from .lexer import Token


class CommandRules:
    """The command rules of :class:`~symbackprop.check.latex.parser.Parser` (a mixin)."""

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
        if name == "theta" and self.table.lookup("theta", None, None) is None and self._call_follows(1):
            self.advance()  # SymPy's \theta(x): Heaviside(x) with the value 1/2 at 0
            return self.call("Heaviside", tok)
        if name == "begin":
            return self.cases()
        if name in ("mathbf", "mathbb", "mathds", "mathbbm", "boldsymbol", "mathrm") and self._indicator():
            return self.indicator()
        if name == "operatorname" or name in FONT_COMMANDS:
            start = self.i
            self.advance()
            word = self.font_argument()
            operator = name == "operatorname"  # \operatorname{sign}{\left(x\right)}, \operatorname{softplus}^{2}(x)
            if word in FUNCTION_WORDS and (self._call_follows(0) or operator and self.tok.kind == "char"
                                           and self.tok.value in "{^"):
                return self.call(FUNCTION_WORDS[word], tok)
            if operator and word == "LeakyReLU" and self.is_char("_"):  # \operatorname{LeakyReLU}_{\alpha}(x)
                self.advance()
                return self.call("leaky_relu", tok, extra=(self.script_expression(),))
            if word == "e" and self.is_char("^"):
                self.advance()
                return f"exp({self.script_expression()})"
            self.i = start
            return self.named_atom()
        if name in GREEK_SET:
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
        return f"Heaviside({argument}, {h0})"

    def call(self, function: str, tok: Token, extra: tuple[str, ...] = ()) -> str:
        """A function's scripts (``'``, ``^{\\prime}``, ``^{2}``) and its argument(s), then ``extra`` ones."""
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
        args = self.arguments(function, tok, len(extra)) + list(extra)
        if derivative and len(args[0]) > LIMITS["max_length"] // 2:  # σ′ writes its argument twice
            raise LatexError(f"answer too long once converted (max_length is {LIMITS['max_length']})")
        if derivative:
            call = f"(sigmoid({args[0]})*(1 - sigmoid({args[0]})))"
        else:
            call = f"{function}({', '.join(args)})"
        return f"({call})**({exponent})" if exponent is not None else call

    def arguments(self, function: str, tok: Token, extra: int = 0) -> list[str]:
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
        low, high = ARITY.get(function, (1, 1))
        low, high = low - extra, None if high is None else high - extra
        if len(args) < low or (high is not None and len(args) > high):
            wanted = (f"{low}" if low == high else f"at least {low}" if high is None else f"{low} or {high}")
            raise LatexError(f"{function} takes {wanted} argument{'s' if high != 1 else ''}, got {len(args)}")
        return args

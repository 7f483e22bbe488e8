"""The LaTeX subset an answer may use: commands, words, limits, and the one error."""
from __future__ import annotations

MAX_DEPTH = 60


GREEK = (
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi "
    "pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta "
    "Lambda Xi Pi Sigma Upsilon Phi Psi Omega"
).split()


GREEK_SET = set(GREEK)


FONT_COMMANDS = {"mathrm", "mathit", "text", "textrm", "textit", "mathbf", "boldsymbol", "operatorname",
                 "mathsf", "mathtt", "mathnormal", "textnormal", "bm"}


SPACING = {",", ";", ":", "!", " ", "quad", "qquad", "thinspace", "medspace", "thickspace", "negthinspace"}


SIZES = {"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr",
         "Biggl", "Biggr"}


MUL_COMMANDS = {"cdot", "times", "ast", "bullet", "cdotp"}


FUNCTION_COMMANDS = {"exp": "exp", "log": "log", "ln": "log", "tanh": "tanh", "sin": "sin", "cos": "cos",
                     "max": "Max", "min": "Min"}


FUNCTION_WORDS = {"exp": "exp", "log": "log", "ln": "log", "tanh": "tanh", "sin": "sin", "cos": "cos",
                  "sqrt": "sqrt", "sigmoid": "sigmoid", "relu": "relu", "ReLU": "relu", "abs": "abs",
                  "max": "Max", "min": "Min", "softplus": "softplus", "sign": "sign",
                  "step": "step", "Heaviside": "Heaviside"}
"""Function names written as words (``relu(x)``, ``\\operatorname{softplus}(x)``) → the plain name."""


ARITY = {"Max": (2, None), "Min": (2, None), "Heaviside": (1, 2), "leaky_relu": (2, 2)}
"""Arguments a function takes when not exactly one: (fewest, most; None for any number)."""


BARE_ARGUMENT = {"exp", "log", "tanh", "sin", "cos"}  # \log x: the next factor is the argument


RELATIONS = {">": ">", "<": "<", "gt": ">", "lt": "<", "geq": ">=", "ge": ">=", "leq": "<=", "le": "<="}
"""The comparisons a condition may use (``x > 0``, ``x \\geq 0``) → the plain operator."""


ALLOWED_HINT = (r"\frac, \cdot, \left( \right), \sigma, \exp, \log, \sqrt, Greek letters, ...")


class LatexError(ValueError):
    """A LaTeX answer outside the supported subset; ``str()`` is one clear line."""

    def __init__(self, message: str):
        super().__init__(" ".join(message.split()))


def looks_like_latex(text: str) -> bool:
    r"""Whether an answer should be read as LaTeX: it has ``\``, braces or ``^``."""
    return any(ch in text for ch in "\\{}^$")

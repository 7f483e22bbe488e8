"""Every name symbackprop generates, in one place, and the Greek letters of user names.

Generated names use a double underscore, which spec names may not contain at the places it is
used here, so they cannot collide with a user's name:

>>> suffix(None), suffix(2)
('', '__2')
>>> delta_name("T", 2), updated_name("w_TF"), updated_param("w_TF__new"), updated_param("w_TF")
('delta_T__2', 'w_TF__new', 'w_TF', None)
>>> adjoint_name("out_T")
'dE_dout_T'
"""
from __future__ import annotations

import unicodedata

UPDATED = "__new"
"""The suffix of a parameter's value after one step, ``w⁺ = w − η·∂E/∂w`` (one scheme everywhere)."""


def suffix(example: int | None) -> str:
    """The per-example suffix: ``""`` for a single example, ``"__n"`` with data."""
    return "" if example is None else f"__{example}"


def delta_name(owner: str, example: int | None = None) -> str:
    """``delta_<neuron or node><suffix>``: the cached δ (``∂E/∂net`` or ``∂E/∂node``)."""
    return f"delta_{owner}{suffix(example)}"


def updated_name(param: str) -> str:
    """The name of ``param`` after one update step (``w_TF`` → ``w_TF__new``)."""
    return param + UPDATED


def updated_param(name: str) -> str | None:
    """The parameter an updated name belongs to, or None for any other name."""
    return name[:-len(UPDATED)] if name.endswith(UPDATED) and len(name) > len(UPDATED) else None


def adjoint_name(node: str) -> str:
    """``dE_d<node>``: the adjoint ``∂E/∂node`` of a node without a δ of its own (an ``out``)."""
    return f"dE_d{node}"


GREEK_COMMANDS = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi",
    "Omega",
}


_LATIN_LOOKALIKES = {"alpha": "A", "beta": "B", "epsilon": "E", "zeta": "Z", "eta": "H", "iota": "I",
                     "kappa": "K", "mu": "M", "nu": "N", "omicron": "O", "rho": "P", "tau": "T",
                     "chi": "X"}
_GREEK_VARIANTS = {"ε": r"\varepsilon", "ϵ": r"\epsilon", "ϑ": r"\vartheta", "ϕ": r"\phi",
                   "φ": r"\varphi", "ς": r"\varsigma", "ο": "o"}


def greek_command(ch: str) -> str | None:
    r"""Math-mode LaTeX of a Greek letter (``λ`` → ``\lambda``, ``Α`` → ``\mathrm{A}``), else None.

    >>> greek_command("λ"), greek_command("Ω"), greek_command("Β"), greek_command("x")
    ('\\lambda', '\\Omega', '\\mathrm{B}', None)
    """
    if ch in _GREEK_VARIANTS:
        return _GREEK_VARIANTS[ch]
    name = unicodedata.name(ch, "")
    for prefix, capital in (("GREEK SMALL LETTER ", False), ("GREEK CAPITAL LETTER ", True)):
        if name.startswith(prefix):
            letter = name[len(prefix):].lower().replace("lamda", "lambda")
            break
    else:
        return None
    if " " in letter:
        return None
    command = letter.capitalize() if capital else letter
    if command in GREEK_COMMANDS:
        return "\\" + command
    if capital and letter in _LATIN_LOOKALIKES:
        return rf"\mathrm{{{_LATIN_LOOKALIKES[letter]}}}"
    return "o" if letter == "omicron" else None

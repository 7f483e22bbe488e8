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
ambiguous. Finding the splits takes one pass over the run, however long it is and however
its names overlap. Unicode superscripts are exponents, never part of a name (``x²`` is
``x^{2}``).

Every function symbackprop prints reads back: ``\max``/``\min`` with any number of
arguments, ``\operatorname{softplus}``, ``\operatorname{LeakyReLU}_{\alpha}(x)``,
``\operatorname{sign}``, the ReLU derivative ``\mathbf{1}[x > 0]`` (``Heaviside(x, 0)``),
SymPy's ``\theta(x)`` (``Heaviside(x)``, unless ``theta`` is a name) and ``\begin{cases}
... \end{cases}`` (``Piecewise``). The plain text may call those functions, so it is read
with :data:`symbackprop.expressions.ANSWER_FUNCTIONS`.

>>> table = NameTable(["out_T", "net_T", "delta_F", "w_TF", "A", "t_F"])
>>> latex_to_text(r"A \delta_F w_{TF} \mathrm{out}_{T}\left(1-\mathrm{out}_{T}\right)", table).text
'A*delta_F*w_TF*out_T*(1-out_T)'
>>> latex_to_text(r"\frac{1}{2}\sigma'(\mathrm{net}_T)", table).text
'((1)/(2))*(sigmoid(net_T)*(1 - sigmoid(net_T)))'
>>> latex_to_text(r"\input{/etc/passwd}", table).text
Traceback (most recent call last):
...
symbackprop.check.latex.grammar.LatexError: LaTeX command \input is not allowed (allowed: \frac, \cdot, \left( \right), \sigma, \exp, \log, \sqrt, Greek letters, ...)
"""
from .grammar import LatexError, looks_like_latex
from .names import NameTable
from .parser import Converted, latex_to_text

__all__ = ["LatexError", "NameTable", "Converted", "latex_to_text", "looks_like_latex"]

"""Numeric worked solutions, graded the way markers grade: with error carried forward.

A worked solution lists the student's figures by name, at whatever rounding they used::

    solution:
      net_T: 0.76          # forward pass: net_X, out_X, expression nodes by name
      out_T: 0.68
      E: 0.018             # the loss: its symbol (E, or J if E is a user name), or E / J / C / loss
      delta_F: 0.041       # δ_X = ∂E/∂net_X
      dE_dw_TF: 0.028      # ∂E/∂w: dE_dw, dJ_dw, grad_w
      w_TF_new: 0.27       # after one step w − η·∂E/∂w (needs learning_rate in the spec)
      out_F_after: 0.68    # second forward pass with the new weights: <name>_after, E_after
      w_AT: 0.1            # given values may be copied too (checked like any figure)
      E_F: 0.018           # one output's term of the loss: <loss>_<output>
      dE_dout_T: 0.0122    # the sum backpropagated into an out: Σ_v δ_v·w_Tv
      dw_AT: -0.00093      # the step −η·∂E/∂w_AT (w_AT_new = w_AT + dw_AT)

With ``data``, per-example names carry the suffix ``__n`` (``out_z__2``, ``out_z__2_after``,
``E_z__2``), and ``E__2`` is example 2's loss (before regularisation and 1/N); with a single
example the suffix may be left out. Where a name of the spec already is one of these (a
parameter called ``w_TF_new``), the name means the spec's quantity.

**Tolerance.** A figure is held to the tighter of its stated precision (written with *d*
decimals: half a unit of its last decimal, ``0.76`` → ±0.005, ``2.4e-3`` → ±0.00005) and the
instructor's policy (:mod:`symbackprop.spec.marking`; by default at least 2 significant
figures, right to half a unit in the second), so an exponent or a bare ``0.`` never widens
it. A true rounding with fewer digits than the policy asks is *insufficient precision*,
unless it is the exact value itself (``0.5`` for ½). A number without a decimal point (``1``,
``-1``, ``0``, ``2e-3``) claims the exact value (within 10⁻⁹, relatively): worked solutions
write integers where the value is exact (WE-8's z = 3, WE-10's h = (1, 0)), and "1" for 0.5 is
the WE-10 loss without its ½, not rounding. See :mod:`.precision`.

**Error carried forward.** Every figure is also recomputed from the student's *own*
earlier figures (never from restated givens: those are the instructor's, taken exactly): its formula (the forward definition, the δ rule
``δ_T = δ_F·w_TF·out_T(1 − out_T)``, ``∂E/∂w = δ·out``, ``w − η·∂E/∂w`` …) is evaluated
over every combination of the student's figures it uses, each anywhere within its own
tolerance (quantities they did not write are carried through from the ones they did). A
figure that is wrong but agrees with that range is *correct given your earlier figures*.
One that is right but does not follow from them is marked so (the WE-8 lecture: a gradient
with a dropped sign, yet the right update).

**Diagnosis.** For the first real error (wrong even with error carried forward) and every
other wrong figure, each change of the slip catalogue is applied to that step and
recomputed both from the exact values and from the student's figures; the slips that
reproduce the figure within its rounding are named, the one explaining the most wrong
figures first. Otherwise: "no known slip matches".

Modules: :mod:`.worksheet` (what may be stated, and its exact values), :mod:`.grading`
(tolerance, error carried forward, diagnosis), :mod:`.formatting` (figures in feedback).
"""
from .formatting import figure_text, span_text
from .grading import Figure, SolutionResult, grade_solution
from .precision import StatedFigure, allowance, stated_figure
from .worksheet import Quantity, Worksheet

__all__ = ["Figure", "SolutionResult", "grade_solution", "Worksheet", "Quantity", "StatedFigure", "stated_figure", "allowance",
           "figure_text", "span_text"]

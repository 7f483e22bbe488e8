"""Fast numeric gradient code generated from a symbolic derivation.

The derivation's forward definitions, cached δs and gradient formulas become straight-line
NumPy code, vectorised over a batch of examples (one array of shape ``(batch,)`` per input
and target), and rendered through ``templates/gradient_module.py.j2`` into a module that
needs only NumPy. :func:`numeric_function` compiles that same module in memory; ``symbackprop
code`` writes it to a file.

Two forms of code come out of one derivation:

- **matrix** — for layered networks (every neuron's sources are exactly the previous layer,
  unshared weights): one ``@`` per layer forward, ``δ = (Wᵀ δ_next) ⊙ f′`` backward and
  ``δ xᵀ`` for the weight gradients. ``f′`` is the derivation's edge label
  (``out(1 − out)`` for a sigmoid), the output δ and the loss are the derivation's own
  expressions printed once for the whole layer.
- **scalar** — for every other graph: one line per definition (forward, δ, gradient) with
  common subexpressions shared (``sympy.cse``).

Both give the same numbers (the tests check it). Numerics are overflow-safe: sigmoid is
computed without ``exp`` of a positive number, softplus as ``logaddexp(0, x)``, a softmax
group shifted by its maximum (``out_k = exp(net_k − m)/Σ_j exp(net_j − m)``), and ``log``
of a sigmoid or softmax output is fused into a log-sigmoid (``−softplus(−net)``) or
log-softmax (``net_k − m − log Σ_j exp(net_j − m)``), so BCE and cross-entropy stay finite
and accurate at ``|net| = 1000`` (see :func:`symbackprop.straightline.stable_forms`).

Only printer output of validated SymPy expressions and names checked to be identifiers
reach the code; no user text is compiled.

>>> from symbackprop import spec_from_mapping, derive
>>> spec = spec_from_mapping({"name": "t", "inputs": ["x"],
...     "neurons": {"o": {"from": {"x": "w"}, "activation": "identity"}},
...     "outputs": ["o"], "loss": "half_sse"})
>>> f = numeric_function(derive(spec))
>>> f({"x": [1.0, 2.0]}, {"w": 0.5}, {"o": [1.0, 1.0]})   # ½Σ(t − wx)², Σ(wx − t)x
(0.125, {'w': -0.5})

Modules: :mod:`.printer`, :mod:`.structure`, :mod:`.lines`, :mod:`.generator`, :mod:`.module`,
:mod:`.runtime`.
"""
from .module import module_source
from .printer import FORMS
from .runtime import NumericFunction, numeric_function
from .structure import Layer, layered_structure

__all__ = ["numeric_function", "NumericFunction", "module_source", "layered_structure", "Layer", "FORMS"]

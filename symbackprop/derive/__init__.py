"""Derive ∂E/∂w for every parameter, by cached backprop or by enumerating paths.

>>> from symbackprop.spec import spec_from_mapping
>>> d = derive(spec_from_mapping({"name": "t", "inputs": ["x"],
...     "neurons": {"o": {"from": {"x": "w"}, "activation": "identity"}},
...     "outputs": ["o"], "loss": "half_sse"}))
>>> d.gradients["w"].expression, d.deltas["o"].expression
(delta_o*x, out_o - t_o)
"""
from .backprop import Adjoints, backprop, delta_symbol
from .core import METHODS, VARIANT_NOTE, derive, paused_gc
from .result import DeltaEntry, Derivation, GradientEntry, Numbers, PathCheck

__all__ = ["derive", "Derivation", "DeltaEntry", "GradientEntry", "Numbers", "PathCheck", "Adjoints",
           "METHODS", "VARIANT_NOTE", "backprop", "delta_symbol", "paused_gc"]

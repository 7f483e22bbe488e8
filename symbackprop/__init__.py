"""symbackprop: derive backpropagation symbolically and show the work.

>>> from symbackprop import load_spec, derive
>>> d = derive(load_spec("examples/we05-221-sigmoid.yaml"))   # doctest: +SKIP
>>> round(d.numbers.gradients["w_TF"], 6)                      # doctest: +SKIP
0.027674
"""
from .derive import METHODS, Derivation, derive
from .errors import SpecError
from .graph import Network, build_network
from .spec import Spec, load_spec, spec_from_mapping

__all__ = ["load_spec", "spec_from_mapping", "derive", "build_network", "Derivation", "Network",
           "Spec", "SpecError", "METHODS"]
__version__ = "0.1.0"

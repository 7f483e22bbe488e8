"""symbackprop: derive backpropagation symbolically and show the work.

>>> from symbackprop import load_spec, derive
>>> d = derive(load_spec("examples/we05-221-sigmoid.yaml"))   # doctest: +SKIP
>>> round(d.numbers.gradients["w_TF"], 6)                      # doctest: +SKIP
0.027674

The names below are imported on first use (PEP 562), so that ``symbackprop --help`` and the
other light commands start without importing SymPy, NumPy or networkx.
"""
from __future__ import annotations

import sys
import types
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - for type checkers and readers only
    from .derive import METHODS, Derivation, derive
    from .errors import SpecError
    from .graph import Network, build_network
    from .spec import Spec, load_spec, spec_from_mapping

_PUBLIC = {"load_spec": ".spec", "spec_from_mapping": ".spec", "Spec": ".spec", "derive": ".derive",
           "Derivation": ".derive", "METHODS": ".derive", "build_network": ".graph", "Network": ".graph",
           "SpecError": ".errors"}
__all__ = ["load_spec", "spec_from_mapping", "derive", "build_network", "Derivation", "Network",
           "Spec", "SpecError", "METHODS"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(import_module(_PUBLIC[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """``symbackprop.derive`` stays the function, as it was when this file imported it eagerly:
    the import system's binding of the subpackage ``symbackprop.derive`` to the attribute is
    skipped (the subpackage is in ``sys.modules`` as always)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "derive" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

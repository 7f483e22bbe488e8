"""The compiled gradient function: f(inputs, params, targets) and f.packed(X, theta, T)."""
from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from ..derive import Derivation
from .module import module_source


class NumericFunction:
    """``f(inputs, params, targets) -> (loss, grads)`` compiled from a derivation.

    ``inputs`` maps each input name to a number or an array of shape ``(batch,)``,
    ``params`` each parameter name to a number, ``targets`` each output name to a number or
    array. ``loss`` is the spec's loss summed (or averaged, with ``reduction: mean``) over
    the batch plus the regularisation; ``grads`` maps every ``wrt`` name to ``∂loss/∂name``
    (an array for inputs). :meth:`packed` is the same on arrays, without dictionaries.
    """

    def __init__(self, source: str, namespace: dict[str, Any]):
        self.source = source
        self._ns = namespace
        self.form: str = namespace["FORM"]
        self.inputs: tuple[str, ...] = namespace["INPUTS"]
        self.params: tuple[str, ...] = namespace["PARAMETERS"]
        self.outputs: tuple[str, ...] = namespace["OUTPUTS"]
        self.wrt: tuple[str, ...] = namespace["WRT"]
        self.wrt_params: tuple[str, ...] = namespace["WRT_PARAMETERS"]
        self.reduction: str = namespace["REDUCTION"]
        self.loss_symbol: str = namespace["LOSS_SYMBOL"]
        self._gradient: Callable = namespace["_gradient"]

    def __call__(self, inputs: Mapping[str, Any], params: Mapping[str, float],
                 targets: Mapping[str, Any] | None = None) -> tuple[float, dict[str, Any]]:
        return self._ns["gradients"](inputs, params, targets or {})

    def loss(self, inputs, params, targets=None) -> float:
        return self._ns["loss"](inputs, params, targets or {})

    def forward(self, inputs, params) -> dict[str, Any]:
        return self._ns["forward"](inputs, params)

    def packed(self, X: np.ndarray, theta: np.ndarray, T: np.ndarray) -> tuple[float, np.ndarray]:
        """``X``: ``(len(inputs), batch)``, ``theta``: ``(len(params),)`` in :attr:`params`
        order, ``T``: ``(len(outputs), batch)``. Returns the loss and the gradient vector
        over :attr:`wrt_params`."""
        loss, grads, _ = self._gradient(X, theta, T)
        return float(loss), grads

    def __repr__(self) -> str:
        return f"<NumericFunction {self._ns['NAME']} ({self.form} form, {len(self.params)} parameters)>"


def numeric_function(derivation: Derivation, *, form: str = "auto", use_cse: bool = True) -> NumericFunction:
    """Compile the forward pass and the cached backward pass of ``derivation`` into one
    vectorised function (see :class:`NumericFunction`). ``form`` is ``"auto"`` (matrix code
    for layered networks, scalar code otherwise), ``"matrix"`` or ``"scalar"``."""
    source = module_source(derivation, form=form, use_cse=use_cse)
    namespace: dict[str, Any] = {"__name__": f"symbackprop_generated_{derivation.name}"}
    exec(compile(source, f"<symbackprop {derivation.name}>", "exec"), namespace)  # noqa: S102 - printer output only
    return NumericFunction(source, namespace)

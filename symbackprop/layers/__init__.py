"""The layer view: vector and matrix notation for layered networks (see :mod:`.view`).

>>> from symbackprop import derive, load_spec
>>> view = layer_view(derive(load_spec("examples/we10-matrix.yaml")))
>>> [layer.number for layer in view.layers], view.max_difference <= 1e-7
([1, 2], True)
"""
from ..derive import Derivation
from .check import LayerViewMismatch, check_layer_view
from .export import layer_view_dict
from .numbers import ExampleNumbers, LayerNumbers, layer_numbers
from .view import ExampleTerms, Layer, LayerView, NotLayered, build_layer_view, find_layers


def layer_view(d: Derivation, *, check: bool = True) -> LayerView:
    """The matrix form of ``d``; raises :class:`NotLayered` when the network has none.

    With ``check`` (the default) every matrix entry is compared with the scalar derivation
    at a random point (:func:`check_layer_view`; a disagreement raises :class:`LayerViewMismatch`).
    """
    view = build_layer_view(d)
    return check_layer_view(view) if check else view


__all__ = ["layer_view", "build_layer_view", "LayerView", "Layer", "ExampleTerms", "NotLayered",
           "LayerViewMismatch", "check_layer_view", "find_layers",
           "layer_numbers", "LayerNumbers", "ExampleNumbers", "layer_view_dict"]

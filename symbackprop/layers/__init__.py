"""The layer view: vector and matrix notation for layered networks (see :mod:`.view`)."""
from .check import LayerViewMismatch, check_layer_view
from .export import layer_view_dict
from .numbers import ExampleNumbers, LayerNumbers, layer_numbers
from .view import ExampleTerms, Layer, LayerView, NotLayered, find_layers, layer_view

__all__ = ["layer_view", "LayerView", "Layer", "ExampleTerms", "NotLayered", "LayerViewMismatch",
           "check_layer_view", "find_layers",
           "layer_numbers", "LayerNumbers", "ExampleNumbers", "layer_view_dict"]

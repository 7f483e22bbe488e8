"""The ``conv:`` shorthand: convolution, pooling, flatten and dense layers as scalar neurons and nodes.

Every output position of a convolution is one neuron whose ``from`` names the kernel entries
it uses, so each kernel entry is *one* parameter shared by every position: ``∂E/∂k`` is the
sum over the positions, ``Σ_p δ_p · x_{p+k}``, and every path and δ is visible. Padding adds
zeros, which contribute no edge. Pooling windows are expression nodes (``max(…)``,
``(… + …)/n``); ``flatten`` only fixes the order in which a ``dense`` layer reads the units.

Generated names (``l`` is the layer's 1-based place in ``layers``; a channel index appears only
with more than one channel): inputs ``x_i`` (1-D) or ``x_i_j`` (2-D), ``x_c_…`` with channels;
a convolution's units ``c<l>_…`` (``c<l>_o_…``), its kernel entries ``k<l>_…``
(``k<l>_o_c_…``) and biases ``b<l>`` (``b<l>_o``); a pooling layer's nodes ``p<l>_…``; a dense
layer's units ``d<l>_j`` (``y_j`` when it is the last layer), weights ``w<l>_j_i`` (``i`` the
flattened position) and biases ``b<l>_j``. The last layer's units are the outputs. Values may
give ``x``, ``k<l>``, ``w<l>``, ``b<l>`` and the targets ``y`` as nested lists.

>>> raw = expand_conv({"conv": {"input": [3], "layers": [{"conv1d": {"kernel": 2}}, {"max_pool": {"size": 2}}]}})
>>> raw["neurons"]["c1_2"], raw["nodes"], raw["outputs"]
({'from': {'x_2': 'k1_1', 'x_3': 'k1_2'}, 'activation': 'identity', 'bias': 'b1'}, {'p2_1': 'max(c1_1, c1_2)'}, ['p2_1'])
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import SpecError
from .arrays import add_named, entries, expand_arrays, indexed, merge_generated, merge_nodes, positions
from .fields import as_list, as_mapping, as_string, describe, refuse_unknown_keys
from .model import MAX_ENTITIES

KEYS = {"input", "channels", "layers"}


@dataclass
class FeatureMap:
    """The units one layer hands to the next: ``names[(channel, *position)]``."""

    channels: int
    shape: tuple[int, ...]          # () once flattened (then positions are 1 … len)
    names: dict[tuple[int, ...], str]
    flat: bool = False

    def flattened(self) -> list[str]:
        return list(self.names.values())


def _int(value: Any, key: str, least: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise SpecError(f"must be an integer of at least {least}, got {describe(value)}", key=key)
    return value


def _per_dim(value: Any, dims: int, key: str, least: int) -> tuple[int, ...]:
    """A size given once for every dimension (``3``) or per dimension (``[3, 2]``)."""
    if isinstance(value, list):
        if len(value) != dims:
            raise SpecError(f"must be one integer or a list of {dims}", key=key)
        return tuple(_int(v, f"{key}[{i}]", least) for i, v in enumerate(value))
    return (_int(value, key, least),) * dims


def _unit(base: str, channel: int, channels: int, position: tuple[int, ...]) -> str:
    return indexed(base, channel, *position) if channels > 1 else indexed(base, *position)


def _conv(kind: str, spec: Any, m: FeatureMap, layer: int, key: str, neurons: dict) -> tuple[FeatureMap, dict]:
    dims = 1 if kind == "conv1d" else 2
    if m.flat or len(m.shape) != dims:
        raise SpecError(f"{kind} needs a {dims}-D input, got {'a flattened' if m.flat else f'a {len(m.shape)}-D'} one",
                        key=key)
    spec = as_mapping(spec, key)
    refuse_unknown_keys(spec, {"kernel", "stride", "padding", "channels", "activation", "bias"}, key)
    if "kernel" not in spec:
        raise SpecError("needs a 'kernel' size", key=key)
    kernel = _per_dim(spec["kernel"], dims, f"{key}.kernel", 1)
    stride = _per_dim(spec.get("stride", 1), dims, f"{key}.stride", 1)
    padding = _per_dim(spec.get("padding", 0), dims, f"{key}.padding", 0)
    out_channels = _int(spec.get("channels", 1), f"{key}.channels")
    bias = spec.get("bias", True)
    if not isinstance(bias, bool):
        raise SpecError("must be true or false", key=f"{key}.bias")
    if any(p >= k for p, k in zip(padding, kernel)):
        raise SpecError("padding must be smaller than the kernel (a window of zeros only)", key=f"{key}.padding")
    shape = tuple((n + 2 * p - k) // s + 1 for n, p, k, s in zip(m.shape, padding, kernel, stride))
    if any(n < 1 for n in shape):
        raise SpecError(f"the kernel {list(kernel)} is larger than the (padded) input {list(m.shape)}",
                        key=f"{key}.kernel")
    activation = as_string(spec.get("activation", "identity"), f"{key}.activation")
    names: dict[tuple[int, ...], str] = {}
    params: dict[str, tuple[int, ...]] = {}
    for o in range(1, out_channels + 1):
        for pos in positions(shape):
            sources = {}
            for c in range(1, m.channels + 1):
                for offset in positions(kernel):
                    source = tuple(s * (q - 1) + (d - 1) - p + 1 for q, d, s, p in zip(pos, offset, stride, padding))
                    if all(1 <= i <= n for i, n in zip(source, m.shape)):
                        index = ((o,) if out_channels > 1 else ()) + ((c,) if m.channels > 1 else ()) + offset
                        sources[m.names[(c, *source)]] = indexed(f"k{layer}", *index)
            name = _unit(f"c{layer}", o, out_channels, pos)
            neurons[name] = {"from": sources, "activation": activation}
            if bias:
                neurons[name]["bias"] = indexed(f"b{layer}", o) if out_channels > 1 else f"b{layer}"
            names[(o, *pos)] = name
    params[f"k{layer}"] = ((out_channels,) if out_channels > 1 else ()) + ((m.channels,) if m.channels > 1 else ()) + kernel
    if bias and out_channels > 1:
        params[f"b{layer}"] = (out_channels,)
    return FeatureMap(out_channels, shape, names), params


def _pool(kind: str, spec: Any, m: FeatureMap, layer: int, key: str, nodes: dict) -> FeatureMap:
    if m.flat:
        raise SpecError(f"{kind} needs a feature map, not a flattened one", key=key)
    dims = len(m.shape)
    spec = as_mapping(spec, key)
    refuse_unknown_keys(spec, {"size", "stride"}, key)
    if "size" not in spec:
        raise SpecError("needs a window 'size'", key=key)
    size = _per_dim(spec["size"], dims, f"{key}.size", 1)
    stride = _per_dim(spec.get("stride", spec["size"]), dims, f"{key}.stride", 1)
    shape = tuple((n - k) // s + 1 for n, k, s in zip(m.shape, size, stride))
    if any(n < 1 for n in shape):
        raise SpecError(f"the window {list(size)} is larger than the input {list(m.shape)}", key=f"{key}.size")
    names = {}
    for c in range(1, m.channels + 1):
        for pos in positions(shape):
            window = [m.names[(c, *(s * (q - 1) + d for q, d, s in zip(pos, offset, stride)))]
                      for offset in positions(size)]
            name = _unit(f"p{layer}", c, m.channels, pos)
            nodes[name] = (f"max({', '.join(window)})" if kind == "max_pool"
                           else f"({' + '.join(window)})/{len(window)}")
            names[(c, *pos)] = name
    return FeatureMap(m.channels, shape, names)


def _dense(spec: Any, m: FeatureMap, layer: int, last: bool, key: str, neurons: dict) -> tuple[FeatureMap, dict]:
    if not m.flat:
        raise SpecError("dense needs a flat input: put a 'flatten' layer before it", key=key)
    spec = as_mapping(spec, key)
    refuse_unknown_keys(spec, {"units", "activation", "bias"}, key)
    units = _int(spec.get("units", 1), f"{key}.units")
    bias = spec.get("bias", True)
    if not isinstance(bias, bool):
        raise SpecError("must be true or false", key=f"{key}.bias")
    activation = as_string(spec.get("activation", "identity"), f"{key}.activation")
    names = {}
    for j in range(1, units + 1):
        name = indexed("y", j) if last else indexed(f"d{layer}", j)
        neurons[name] = {"from": {src: indexed(f"w{layer}", j, i) for i, src in enumerate(m.flattened(), start=1)},
                         "activation": activation}
        if bias:
            neurons[name]["bias"] = indexed(f"b{layer}", j)
        names[(j,)] = name
    params = {f"w{layer}": (units, len(m.names))}
    if bias:
        params[f"b{layer}"] = (units,)
    return FeatureMap(1, (), names, flat=True), params


LAYERS = ("conv1d", "conv2d", "max_pool", "avg_pool", "flatten", "dense")


def _layer(item: Any, key: str) -> tuple[str, Any]:
    if isinstance(item, str):
        item = {item: {}}
    item = as_mapping(item, key)
    if len(item) != 1 or next(iter(item)) not in LAYERS:
        raise SpecError(f"each layer is one of {', '.join(LAYERS)} with its settings, e.g. "
                        "{conv1d: {kernel: 3}}", key=key)
    kind, spec = next(iter(item.items()))
    return kind, {} if spec is None else spec


def expand_conv(raw: dict) -> dict:
    """``raw`` with its ``conv:`` block built as inputs, neurons, nodes and outputs, and its
    values (nested lists) in the generated scalar names (see the module docstring)."""
    block = as_mapping(raw["conv"], "conv")
    refuse_unknown_keys(block, KEYS, "conv")
    if "layers" in raw:
        raise SpecError("give the layers inside the conv block (conv.layers)", key="layers")
    if "input" not in block:
        raise SpecError("needs the 'input' shape, e.g. [6] or [4, 4]", key="conv.input")
    shape = tuple(_int(v, f"conv.input[{i}]") for i, v in enumerate(as_list(block["input"], "conv.input")))
    if len(shape) not in (1, 2):
        raise SpecError("must be [n] (1-D) or [rows, cols] (2-D)", key="conv.input")
    channels = _int(block.get("channels", 1), "conv.channels")
    layers = as_list(block.get("layers", []), "conv.layers")
    if not layers:
        raise SpecError("needs at least one layer", key="conv.layers")
    inputs = {(c, *pos): _unit("x", c, channels, pos) for c in range(1, channels + 1) for pos in positions(shape)}
    m = FeatureMap(channels, shape, inputs)
    neurons: dict[str, dict] = {}
    nodes: dict[str, str] = {}
    shapes: dict[str, tuple[int, ...]] = {"x": ((channels,) if channels > 1 else ()) + shape}
    for l, item in enumerate(layers, start=1):
        key = f"conv.layers[{l - 1}]"
        kind, spec = _layer(item, key)
        if kind in ("conv1d", "conv2d"):
            m, params = _conv(kind, spec, m, l, f"{key}.{kind}", neurons)
            shapes.update(params)
        elif kind in ("max_pool", "avg_pool"):
            m = _pool(kind, spec, m, l, f"{key}.{kind}", nodes)
        elif kind == "flatten":
            m = FeatureMap(1, (), {(i,): n for i, n in enumerate(m.flattened(), start=1)}, flat=True)
        else:
            m, params = _dense(spec, m, l, l == len(layers), f"{key}.{kind}", neurons)
            shapes.update(params)
        size = len(nodes) + sum(len(n["from"]) + 1 for n in neurons.values())
        if size > MAX_ENTITIES:
            raise SpecError(f"more than {MAX_ENTITIES} neurons, nodes and weighted edges", key=key)
    raw = merge_generated(raw, {"inputs": list(inputs.values()), "neurons": neurons, "outputs": m.flattened()},
                          "conv")
    if nodes:
        raw["nodes"] = merge_nodes(raw, nodes)
    if isinstance(raw.get("values"), dict):
        raw["values"] = _values(raw["values"], shapes, raw["outputs"], "values")
    if isinstance(raw.get("data"), list):
        raw["data"] = [_values(item, shapes, raw["outputs"], f"data[{n}]") if isinstance(item, dict) else item
                       for n, item in enumerate(raw["data"])]
    return raw


def _values(block: dict, shapes: dict, outputs: list[str], key: str) -> dict:
    """Nested-list values (``x``, ``k<l>``, ``w<l>``, ``b<l>``; targets ``y`` in output order) by name."""
    block = dict(block)
    if "params" in block:
        block["params"] = expand_arrays(block["params"], {k: v for k, v in shapes.items() if k != "x"},
                                        f"{key}.params")
    if "inputs" in block:
        block["inputs"] = expand_arrays(block["inputs"], {"x": shapes["x"]}, f"{key}.inputs")
    targets = block.get("targets")
    if isinstance(targets, dict) and isinstance(targets.get("y"), list) and "y" not in outputs:
        named = {k: v for k, v in targets.items() if k != "y"}
        given = entries(targets["y"], (len(outputs),), f"{key}.targets.y")
        add_named(named, dict(zip(outputs, given.values())), f"{key}.targets.y")
        block["targets"] = named
    return block

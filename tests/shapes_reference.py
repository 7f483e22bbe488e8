"""An independent reference for the ``recurrent:`` and ``conv:`` shorthands: the tests' oracle.

Nothing here comes from ``symbackprop``: the blocks are read as plain dicts and the networks
computed directly — an RNN loop over the time steps, convolution and pooling as loops over
positions — with arithmetic on floats or on 0-dim ``torch`` tensors (the same code, so
``torch.autograd`` differentiates it). Parameters are looked up by the generated names that
docs/spec.md documents (``W``/``W_j_l``, ``k1_…``, ``w4_j_i``, …), the one thing shared
with the code under test.

Public functions: ``rnn_loss``, ``conv_loss``, ``loss`` (either, from a spec dict),
``finite_difference_gradient(spec, params)``, ``torch_gradient(spec, params, detach=True)``.
With ``detach=True`` an RNN's ``truncate: k`` is honoured as PyTorch users write it:
``h = h.detach()`` before steps ``T − k + 1``, ``T − 2k + 1``, … (for finite differences:
those states are taken from the unperturbed forward pass).
"""
from __future__ import annotations

import itertools
import math

ACTIVATIONS = ("identity", "tanh", "sigmoid", "relu", "softplus")


def _act(name: str, z):
    if hasattr(z, "detach"):
        import torch

        return {"identity": lambda v: v, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu,
                "softplus": lambda v: torch.log1p(torch.exp(v))}[name](z)
    return {"identity": lambda v: v, "tanh": math.tanh, "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
            "relu": lambda v: max(v, 0.0), "softplus": lambda v: math.log1p(math.exp(v))}[name](z)


def _max(values):
    if hasattr(values[0], "detach"):
        import torch

        return torch.stack(list(values)).max()
    return max(values)


def _name(base: str, *index: int) -> str:
    return base + "".join(f"_{i}" for i in index)


def _loss(kind: str, pairs) -> object:
    squares = [(t - y) ** 2 for y, t in pairs]
    total = sum(squares[1:], squares[0])
    return {"half_sse": total / 2, "sse": total, "mse": total / len(squares)}[kind]


# ----------------------------------------------------------------------------- RNN

def _rnn_param(p: dict, base: str, rows: int, cols: int | None, j: int, i: int = 1):
    if cols is None:
        return p[base] if rows == 1 else p[_name(base, j)]
    return p[base] if rows == 1 and cols == 1 else p[_name(base, j, i)]


def rnn_states(block: dict, params: dict, sequence: list, frozen: dict | None = None):
    """Every state ``h_t`` (a list per step, ``h_0`` first) and the outputs at the output steps;
    ``frozen[t]`` replaces the state handed into step ``t`` (truncation)."""
    T = len(sequence)
    n_in, n_h, n_out = block.get("inputs", 1), block.get("state", 1), block.get("outputs", 1)
    f, g = block.get("activation", "tanh"), block.get("output_activation", "identity")
    bias = block.get("bias", True)
    h0 = block.get("h0", 0)
    h = [float(v) for v in h0] if isinstance(h0, list) else [float(h0)] * n_h
    states, outputs = [h], {}
    steps = range(1, T + 1) if block.get("loss_at", "last") == "every" else [T]
    for t in range(1, T + 1):
        if frozen and t in frozen:
            h = frozen[t]
        x = sequence[t - 1]["x"]
        x = x if isinstance(x, list) else [x]
        new = []
        for j in range(1, n_h + 1):
            z = sum(_rnn_param(params, "W", n_h, n_h, j, m) * h[m - 1] for m in range(1, n_h + 1))
            z = z + sum(_rnn_param(params, "U", n_h, n_in, j, i) * x[i - 1] for i in range(1, n_in + 1))
            if bias:
                z = z + _rnn_param(params, "b", n_h, None, j)
            new.append(_act(f, z))
        h = new
        states.append(h)
        if t in steps:
            ys = []
            for k in range(1, n_out + 1):
                z = sum(_rnn_param(params, "V", n_out, n_h, k, j) * h[j - 1] for j in range(1, n_h + 1))
                if bias:
                    z = z + _rnn_param(params, "c", n_out, None, k)
                ys.append(_act(g, z))
            outputs[t] = ys
    return states, outputs


def rnn_loss(spec: dict, params: dict, frozen: dict | None = None):
    block, sequence = spec["recurrent"], spec["values"]["sequence"]
    _, outputs = rnn_states(block, params, sequence, frozen)
    pairs = []
    for t, ys in outputs.items():
        target = sequence[t - 1]["t"]
        pairs += list(zip(ys, target if isinstance(target, list) else [target]))
    return _loss(spec["loss"], pairs)


def detach_steps(spec: dict) -> list[int]:
    """The steps whose incoming state is detached under ``truncate: k``."""
    k = spec["recurrent"].get("truncate")
    T = len(spec["values"]["sequence"])
    return [] if not k else [s for s in range(T - k + 1, 1, -k)]


# ----------------------------------------------------------------------------- conv

def _positions(shape):
    return list(itertools.product(*(range(1, s + 1) for s in shape)))


def _dims(value, n):
    return tuple(value) if isinstance(value, list) else (value,) * n


def conv_forward(block: dict, params: dict, x_values):
    """The output units (flattened) of a conv block for one input (a nested list)."""
    shape = tuple(block["input"])
    channels = block.get("channels", 1)

    def at(value, index):
        for i in index:
            value = value[i - 1]
        return value

    fmap = {(c, *pos): float(at(x_values, ((c,) if channels > 1 else ()) + pos))
            for c in range(1, channels + 1) for pos in _positions(shape)}
    flat = None
    for l, layer in enumerate(block["layers"], start=1):
        kind, cfg = (layer, {}) if isinstance(layer, str) else next(iter(layer.items()))
        cfg = cfg or {}
        if kind in ("conv1d", "conv2d"):
            n = len(shape)
            kernel, stride = _dims(cfg["kernel"], n), _dims(cfg.get("stride", 1), n)
            padding, out_ch = _dims(cfg.get("padding", 0), n), cfg.get("channels", 1)
            out_shape = tuple((s + 2 * p - k) // st + 1 for s, p, k, st in zip(shape, padding, kernel, stride))
            new = {}
            for o in range(1, out_ch + 1):
                for pos in _positions(out_shape):
                    z = params[_name(f"b{l}", o) if out_ch > 1 else f"b{l}"] if cfg.get("bias", True) else 0.0
                    for c in range(1, channels + 1):
                        for off in _positions(kernel):
                            src = tuple(st * (q - 1) + d - p for q, d, st, p in zip(pos, off, stride, padding))
                            if all(1 <= s <= m for s, m in zip(src, shape)):
                                idx = ((o,) if out_ch > 1 else ()) + ((c,) if channels > 1 else ()) + off
                                z = z + params[_name(f"k{l}", *idx)] * fmap[(c, *src)]
                    new[(o, *pos)] = _act(cfg.get("activation", "identity"), z)
            fmap, shape, channels = new, out_shape, out_ch
        elif kind in ("max_pool", "avg_pool"):
            n = len(shape)
            size = _dims(cfg["size"], n)
            stride = _dims(cfg.get("stride", cfg["size"]), n)
            out_shape = tuple((s - k) // st + 1 for s, k, st in zip(shape, size, stride))
            new = {}
            for c in range(1, channels + 1):
                for pos in _positions(out_shape):
                    window = [fmap[(c, *(st * (q - 1) + d for q, d, st in zip(pos, off, stride)))]
                              for off in _positions(size)]
                    new[(c, *pos)] = _max(window) if kind == "max_pool" else sum(window[1:], window[0]) / len(window)
            fmap, shape = new, out_shape
        elif kind == "flatten":
            flat = [fmap[key] for key in sorted(fmap)]
        else:  # dense
            units, bias = cfg.get("units", 1), cfg.get("bias", True)
            flat = [_act(cfg.get("activation", "identity"),
                         sum(params[_name(f"w{l}", j, i)] * v for i, v in enumerate(flat, start=1))
                         + (params[_name(f"b{l}", j)] if bias else 0.0)) for j in range(1, units + 1)]
    return flat if flat is not None else [fmap[key] for key in sorted(fmap)]


def conv_loss(spec: dict, params: dict):
    values = spec["values"]
    outs = conv_forward(spec["conv"], params, values["inputs"]["x"])
    return _loss(spec["loss"], list(zip(outs, values["targets"]["y"])))


# ----------------------------------------------------------------------------- gradients

def loss(spec: dict, params: dict, frozen: dict | None = None):
    return rnn_loss(spec, params, frozen) if "recurrent" in spec else conv_loss(spec, params)


def finite_difference_gradient(spec: dict, params: dict, h: float = 1e-6, detach: bool = False) -> dict:
    """Central differences of the oracle's loss (truncated BPTT with ``detach``)."""
    frozen = None
    if detach and "recurrent" in spec:
        states, _ = rnn_states(spec["recurrent"], params, spec["values"]["sequence"])
        frozen = {t: states[t - 1] for t in detach_steps(spec)}
    out = {}
    for name, value in params.items():
        up = loss(spec, {**params, name: value + h}, frozen)
        down = loss(spec, {**params, name: value - h}, frozen)
        out[name] = (up - down) / (2 * h)
    return out


def torch_gradient(spec: dict, params: dict, detach: bool = False) -> dict:
    """``torch.autograd`` of the oracle (float64); ``detach``: truncated BPTT by ``h.detach()``."""
    import torch

    leaves = {n: torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for n, v in params.items()}
    frozen = None
    if detach and "recurrent" in spec:
        states, _ = rnn_states(spec["recurrent"], leaves, spec["values"]["sequence"])
        frozen = {t: [h.detach() if hasattr(h, "detach") else h for h in states[t - 1]]
                  for t in detach_steps(spec)}
    total = loss(spec, leaves, frozen)
    grads = torch.autograd.grad(total, list(leaves.values()), allow_unused=True)
    return {n: 0.0 if g is None else float(g) for n, g in zip(leaves, grads)}

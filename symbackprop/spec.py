"""Load and validate a network spec (YAML or JSON) into a :class:`Spec`.

Every mistake becomes a :class:`SpecError` naming the file and the key. Numbers are read
exactly (``0.35`` becomes ``7/20``); YAML is read with a safe loader that rejects
duplicate keys and tags.

>>> spec = spec_from_mapping({"name": "tiny", "inputs": ["x"],
...     "neurons": {"o": {"from": {"x": "w"}, "activation": "identity"}},
...     "outputs": ["o"], "loss": "half_sse"})
>>> spec.parameters
('w',)
"""
from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import sympy as sp
import yaml

from .errors import SpecError
from .matrix_values import expand_matrix_values

MAX_NAME_LENGTH = 32
MAX_SPEC_BYTES = 5_000_000
MAX_ENTITIES = 50_000  # neurons + nodes + weights; larger networks are refused
MAX_EXAMPLES = 10_000
MAX_VALUES = 1_000_000  # examples × (inputs + outputs)
TOO_LONG = "a number has more than 4300 digits"
MAX_MAGNITUDE = 1e15  # spec numbers; larger ones overflow float64 arithmetic soon after

_NAME = re.compile(r"^[^\W\d_]\w*$", re.UNICODE)
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")

TOP_KEYS = {
    "name", "title", "description", "inputs", "neurons", "layers", "activation", "activations",
    "bias", "nodes", "params", "outputs", "loss", "regularization", "objective", "wrt",
    "values", "data", "reduction", "learning_rate", "backprop_weights", "randomize",
}
NEURON_KEYS = {"from", "activation", "bias", "alpha"}


@dataclass(frozen=True)
class Neuron:
    """One neuron: ``net = Σ param·source (+ bias)``, ``out = activation(net)``."""

    name: str
    sources: tuple[tuple[str, str], ...]  # (source name, parameter name)
    activation: str
    alpha: sp.Rational | None = None
    bias: str | None = None


@dataclass(frozen=True)
class Example:
    """One training example: input and target values."""

    inputs: Mapping[str, sp.Rational]
    targets: Mapping[str, sp.Rational]


@dataclass(frozen=True)
class Spec:
    """A validated spec. Names are the user's own; numbers are exact SymPy Rationals."""

    name: str
    inputs: tuple[str, ...]
    neurons: Mapping[str, Neuron]
    nodes: Mapping[str, str]
    outputs: tuple[str, ...]
    loss: str | None
    objective: str | None
    wrt: tuple[str, ...]
    parameters: tuple[str, ...]
    weights: tuple[str, ...]
    biases: tuple[str, ...]
    title: str = ""
    description: str = ""
    l2: sp.Rational | None = None
    l2_include_biases: bool = False
    params_values: Mapping[str, sp.Rational] | None = None
    examples: tuple[Example, ...] = ()
    has_data: bool = False
    reduction: str = "sum"
    learning_rate: sp.Rational | None = None
    backprop_weights: str = "old"
    randomize: Mapping[str, Any] | None = None
    file: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def has_values(self) -> bool:
        """True when every input, parameter and target has a number."""
        return self.params_values is not None and bool(self.examples)


# ---------------------------------------------------------------- reading files

class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys and reads ``1e-3`` as a float (YAML 1.2)."""


class _FastStrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The same rules on libyaml's parser (about four times faster), for text nested at most
    :data:`MAX_FAST_NESTING` deep (brackets, or indentation and ``-`` for block style): libyaml
    recurses in C and crashes on deep nesting."""


MAX_FAST_NESTING = 1_000


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    mapping: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, (str, int, float)):
            raise SpecError(f"line {key_node.start_mark.line + 1}: keys must be plain names")
        if key in mapping:
            raise SpecError(f"line {key_node.start_mark.line + 1}: duplicate key {_show(key)}")
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


def _construct_number(loader, node):
    """YAML 1.1 numbers without its base-60 form: ``1:30`` is an error, not 90 (and never a
    quadratic-time parse of a million ``:`` parts)."""
    text = loader.construct_scalar(node)
    if ":" in text:
        raise SpecError(f"line {node.start_mark.line + 1}: {_show(text)} is a base-60 number in YAML 1.1; "
                        "write it in decimal (or quote it)")
    tag = node.tag.rsplit(":", 1)[-1]
    return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node) if tag == "int" else \
        yaml.constructor.SafeConstructor.construct_yaml_float(loader, node)


def _refuse_tag(loader, node):
    raise SpecError(f"line {node.start_mark.line + 1}: YAML type {node.tag.rsplit(':', 1)[-1]} is not allowed "
                    "(dates, binary data, sets and ordered maps have no meaning in a spec; quote the text)")


for _loader in (_StrictLoader, _FastStrictLoader):
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _loader.add_constructor("tag:yaml.org,2002:int", _construct_number)
    _loader.add_constructor("tag:yaml.org,2002:float", _construct_number)
    for _tag in ("binary", "omap", "pairs", "set", "timestamp"):
        _loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_tag)
    _loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
        list("-+0123456789"),
    )


def _show(key: Any) -> str:
    """A user's key or name as an error message quotes it: one line, at most 40 characters.

    >>> _show("w_AT"), _show("a\\nb"), _show("x" * 50)
    ("'w_AT'", "'a\\\\nb'", "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…'")
    """
    text = str(key)
    return repr(text[:40]) if len(text) <= 40 else repr(text[:40])[:-1] + "…'"


def _key(key: Any) -> str:
    """A user's mapping key as part of a dotted key: as written when short and plain, else quoted."""
    text = str(key)
    return text if len(text) <= 40 and text.isprintable() and " " not in text else _show(key)


def _flow_nesting(text: str) -> int:
    """How deep ``[``/``{`` brackets nest in ``text`` (quotes ignored: an upper bound)."""
    depth = deepest = 0
    for match in re.finditer(r"[\[\]{}]", text):
        depth += 1 if match.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _reject_duplicates(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise SpecError(f"duplicate key {_show(key)}")
        out[key] = value
    return out


def read_text(path: str | Path, what: str = "spec", max_bytes: int = MAX_SPEC_BYTES) -> str:
    """A user's file as UTF-8 text, with one clear error for each way it can be unreadable."""
    file = str(path)
    try:
        if Path(path).exists() and not Path(path).is_dir() and not Path(path).is_file():
            raise SpecError(f"not a regular file (a device, pipe or socket is not a {what} file)", file=file)
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise SpecError("no such file", file=file) from None
    except IsADirectoryError:
        raise SpecError(f"is a directory, not a{'n' if what[0] in 'aeiou' else ''} {what} file",
                        file=file) from None
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror}", file=file) from None
    if len(data) > max_bytes:
        raise SpecError(f"file is larger than {max_bytes} bytes", file=file)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"not UTF-8 text (byte {exc.start})", file=file) from None
    if not text.strip():
        raise SpecError("the file is empty", file=file)
    return text


def load_yaml(text: str, loader: type[yaml.SafeLoader], file: str):
    """``yaml.load`` with a safe loader; syntax errors, tags and nesting become SpecErrors."""
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - SafeLoader subclasses only
    except SpecError as exc:
        raise exc.located(file) from None
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}" if mark else ""
        raise SpecError(f"YAML tag not allowed{where}: {exc.problem}", file=file) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise SpecError(f"YAML syntax error{where}: {problem}", file=file) from None
    except RecursionError:
        raise SpecError("nested too deeply", file=file) from None
    except ValueError:  # an integer of more than 4300 digits
        raise SpecError(TOO_LONG, file=file) from None


def read_mapping(path: str | Path) -> dict:
    """Read a YAML or JSON file into a dict, with clear errors for every way it can be broken."""
    path = Path(path)
    file = str(path)
    text = read_text(path)
    if path.suffix.lower() == ".json":
        try:
            loaded = json.loads(text, object_pairs_hook=_reject_duplicates,
                                parse_constant=lambda c: _bad_constant(c))
        except SpecError as exc:
            raise exc.located(file) from None
        except json.JSONDecodeError as exc:
            raise SpecError(f"JSON syntax error at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                            file=file) from None
        except RecursionError:
            raise SpecError("nested too deeply", file=file) from None
        except ValueError:  # an integer of more than 4300 digits
            raise SpecError(TOO_LONG, file=file) from None
    else:
        flow = text.count("[") + text.count("{") <= MAX_FAST_NESTING or _flow_nesting(text) <= MAX_FAST_NESTING
        fast = flow and _block_nesting(text) <= MAX_FAST_NESTING
        loaded = load_yaml(text, _FastStrictLoader if fast else _StrictLoader, file)
    if not isinstance(loaded, dict):
        raise SpecError("a spec must be a mapping of keys (name, inputs, neurons, ...)", file=file)
    return loaded


def _block_nesting(text: str) -> int:
    """An upper bound on block-style nesting: the most leading spaces, ``-`` and ``?`` on a line
    (``- - - x`` nests three sequences on one line)."""
    return max((len(line) - len(line.lstrip(" -?")) for line in text.splitlines()), default=0)


def _bad_constant(name: str):
    raise SpecError(f"'{name}' is not a number a spec may use")


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file.

    Raises :class:`SpecError` (naming file and key) for every mistake.
    """
    raw = read_mapping(path)
    try:
        return spec_from_mapping(raw, file=str(path))
    except SpecError as exc:
        raise exc.located(str(path)) from None


# ---------------------------------------------------------------- checking values

def check_name(value: Any, key: str) -> str:
    """A valid user name (identifier, ≤ 32 chars, no leading ``_``, no ``__``), NFKC-normalised."""
    if not isinstance(value, str):
        raise SpecError(f"a name must be a string, got {_describe(value)}", key=key)
    name = unicodedata.normalize("NFKC", value)
    if not _NAME.match(name) or "__" in name or len(name) > MAX_NAME_LENGTH:
        raise SpecError(
            f"{_show(value)} is not a valid name (letters, digits and single '_', starting "
            f"with a letter, at most {MAX_NAME_LENGTH} characters)", key=key)
    return name


def number(value: Any, key: str) -> sp.Rational:
    """An exact number: ints stay ints, floats are read by their decimal text (0.35 → 7/20)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = " (write it without quotes)" if isinstance(value, str) and _looks_numeric(value) else ""
        raise SpecError(f"must be a number, got {_describe(value)}{hint}", key=key)
    if isinstance(value, float) and not math.isfinite(value):
        raise SpecError(f"must be a finite number, got {value}", key=key)
    if abs(value) > MAX_MAGNITUDE:
        raise SpecError(f"must be at most {MAX_MAGNITUDE:g} in size", key=key)
    return sp.Rational(repr(value)) if isinstance(value, float) else sp.Integer(value)


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f"the string {_show(value)}"
    if value is None:
        return "nothing"
    return f"a {type(value).__name__}"


def _mapping(value: Any, key: str) -> dict:
    if not isinstance(value, dict):
        raise SpecError(f"must be a mapping, got {_describe(value)}", key=key)
    return value


def _list(value: Any, key: str) -> list:
    if not isinstance(value, list):
        raise SpecError(f"must be a list, got {_describe(value)}", key=key)
    return value


def _string(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise SpecError(f"must be a string, got {_describe(value)}", key=key)
    return value


def _names(value: Any, key: str) -> tuple[str, ...]:
    names = tuple(check_name(v, f"{key}[{i}]") for i, v in enumerate(_list(value, key)))
    seen: set[str] = set()
    for i, n in enumerate(names):
        if n in seen:
            raise SpecError(f"'{n}' is listed twice", key=f"{key}[{i}]")
        seen.add(n)
    return names


def _unknown_keys(mapping: dict, allowed: set[str], key: str | None) -> None:
    for k in mapping:
        if k not in allowed:
            prefix = f"{key}." if key else ""
            raise SpecError(f"unknown key (allowed: {', '.join(sorted(allowed))})", key=f"{prefix}{_key(k)}")


# ---------------------------------------------------------------- the spec

def _layered_neurons(raw: dict) -> tuple[tuple[str, ...], dict[str, dict], tuple[str, ...]]:
    """Expand ``layers: [2, 3, 2]`` into inputs, neuron mappings and outputs (README names)."""
    layers = _list(raw["layers"], "layers")
    if len(layers) < 2:
        raise SpecError("needs at least an input and an output layer, e.g. [2, 3, 1]", key="layers")
    for i, width in enumerate(layers):
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise SpecError(f"layer widths must be positive integers, got {_describe(width)}",
                            key=f"layers[{i}]")
    if sum(a * b for a, b in zip(layers, layers[1:])) > MAX_ENTITIES:
        raise SpecError(f"more than {MAX_ENTITIES} weights", key="layers")
    depth = len(layers) - 1
    if "activations" in raw:
        if "activation" in raw:
            raise SpecError("give either 'activation' or 'activations', not both", key="activations")
        acts = _list(raw["activations"], "activations")
        if len(acts) != depth:
            raise SpecError(f"needs one activation per non-input layer ({depth}), got {len(acts)}",
                            key="activations")
    elif "activation" in raw:
        acts = [raw["activation"]] * depth
    else:
        raise SpecError("with 'layers', give 'activation' (or 'activations', one per layer)",
                        key="activation")
    for i, a in enumerate(acts):
        _string(a, f"activations[{i}]" if "activations" in raw else "activation")
    bias = raw.get("bias", False)
    if not isinstance(bias, bool):
        raise SpecError("with 'layers', bias must be true or false", key="bias")
    if "inputs" in raw:
        inputs = _names(raw["inputs"], "inputs")
        if len(inputs) != layers[0]:
            raise SpecError(f"layers[0] is {layers[0]} but {len(inputs)} inputs are named", key="inputs")
    else:
        inputs = tuple(f"x{i}" for i in range(1, layers[0] + 1))
    previous = list(inputs)
    neurons: dict[str, dict] = {}
    for layer in range(1, depth + 1):
        names = [f"y{j}" if layer == depth else f"h{layer}_{j}" for j in range(1, layers[layer] + 1)]
        for j, name in enumerate(names, start=1):
            neuron = {"from": {src: f"w{layer}_{j}_{i}" for i, src in enumerate(previous, start=1)},
                      "activation": acts[layer - 1]}
            if bias:
                neuron["bias"] = f"b{layer}_{j}"
            neurons[name] = neuron
        previous = names
    return inputs, neurons, tuple(previous)


def _neuron(name: str, raw: Any, key: str) -> Neuron:
    raw = _mapping(raw, key)
    _unknown_keys(raw, NEURON_KEYS, key)
    if "from" not in raw:
        raise SpecError("a neuron needs 'from' (its sources and weights)", key=key)
    sources = _mapping(raw["from"], f"{key}.from")
    if not sources:
        raise SpecError("a neuron needs at least one source", key=f"{key}.from")
    pairs = tuple((check_name(src, f"{key}.from"), check_name(param, f"{key}.from.{_key(src)}"))
                  for src, param in sources.items())
    if len({src for src, _ in pairs}) != len(pairs):
        raise SpecError("two sources are the same name after Unicode normalisation", key=f"{key}.from")
    if "activation" not in raw:
        raise SpecError("a neuron needs an 'activation' (identity, sigmoid, tanh, relu, ...)",
                        key=f"{key}.activation")
    activation = _string(raw["activation"], f"{key}.activation").strip()
    alpha = number(raw["alpha"], f"{key}.alpha") if "alpha" in raw else None
    if alpha is not None and activation != "leaky_relu":
        raise SpecError("'alpha' only goes with activation leaky_relu", key=f"{key}.alpha")
    bias = check_name(raw["bias"], f"{key}.bias") if raw.get("bias") is not None else None
    return Neuron(name=name, sources=pairs, activation=activation, alpha=alpha, bias=bias)


def _values_block(raw: Any, key: str, allowed: set[str] | tuple[str, ...], what: str) -> dict[str, sp.Rational]:
    block = _mapping(raw, key)
    out = {}
    for k, v in block.items():
        name = check_name(k, f"{key}.{_key(k)}")
        if name not in allowed:
            raise SpecError(f"not {what} of this network", key=f"{key}.{_key(k)}")
        if name in out:
            raise SpecError("the same name as another key after Unicode normalisation", key=f"{key}.{_key(k)}")
        out[name] = number(v, f"{key}.{_key(k)}")
    return out


def _require_all(given: Mapping[str, Any], needed, key: str, what: str) -> None:
    missing = [n for n in needed if n not in given]
    if missing:
        raise SpecError(f"missing value for {what} {', '.join(repr(m) for m in missing[:5])}"
                        + (" ..." if len(missing) > 5 else ""), key=key)


def spec_from_mapping(raw: Mapping[str, Any], *, file: str | None = None) -> Spec:
    """Validate a spec mapping (already read from YAML/JSON) into a :class:`Spec`."""
    raw = dict(_mapping(raw, "(top level)"))
    _unknown_keys(raw, TOP_KEYS, None)
    if "layers" in raw:
        raw = expand_matrix_values(raw)  # W1: [[…]], x: […] → the generated scalar names
    if "name" not in raw:
        raise SpecError("a spec needs a 'name' (used for output file names)", key="name")
    name = _string(raw["name"], "name")
    if not _FILE_NAME.match(name):
        raise SpecError(f"'{name[:40]}' is not usable as a file name (letters, digits, '-', '_', '.')",
                        key="name")
    title = _string(raw.get("title", ""), "title")
    description = _string(raw.get("description", ""), "description")

    if "layers" in raw:
        if "neurons" in raw:
            raise SpecError("give either 'layers' or 'neurons', not both", key="layers")
        inputs, neuron_maps, layered_outputs = _layered_neurons(raw)
    else:
        for k in ("activation", "activations", "bias"):
            if k in raw:
                raise SpecError("only goes with 'layers' (give each neuron its own)", key=k)
        inputs = _names(raw.get("inputs", []), "inputs")
        neuron_maps = _mapping(raw.get("neurons", {}), "neurons")
        layered_outputs = ()
    node_maps = _mapping(raw.get("nodes", {}), "nodes")
    if len(inputs) > MAX_ENTITIES:
        raise SpecError(f"more than {MAX_ENTITIES} inputs", key="inputs")
    if len(neuron_maps) + len(node_maps) > MAX_ENTITIES:  # refused before anything is built
        raise SpecError(f"more than {MAX_ENTITIES} neurons, nodes and weighted edges", key="neurons")
    neurons: dict[str, Neuron] = {}
    for key_name, body in neuron_maps.items():
        n = check_name(key_name, f"neurons.{_key(key_name)}")
        if n in neurons:
            raise SpecError("the same name as another neuron after Unicode normalisation",
                            key=f"neurons.{_key(key_name)}")
        neurons[n] = _neuron(n, body, f"neurons.{_key(key_name)}")
    nodes = {}
    for key_name, text in node_maps.items():
        n = check_name(key_name, f"nodes.{_key(key_name)}")
        if n in nodes:
            raise SpecError("the same name as another node after Unicode normalisation",
                            key=f"nodes.{_key(key_name)}")
        nodes[n] = _string(text, f"nodes.{_key(key_name)}")
    size = len(neurons) + len(nodes) + sum(len(n.sources) for n in neurons.values())
    if size > MAX_ENTITIES:
        raise SpecError(f"more than {MAX_ENTITIES} neurons, nodes and weighted edges", key="neurons")
    if not neurons and not nodes:
        raise SpecError("a spec needs 'neurons', 'layers' or 'nodes'", key="neurons")

    weights: dict[str, None] = {}  # ordered sets: a list's `in` would make this quadratic
    biases: dict[str, None] = {}
    for n in neurons.values():
        for _, p in n.sources:
            weights.setdefault(p)
        if n.bias:
            biases.setdefault(n.bias)
    for p in _names(raw.get("params", []), "params"):
        weights.setdefault(p)
    biases = [b for b in biases if b not in weights]
    weights = list(weights)
    parameters = tuple(weights + biases)

    _check_namespace(inputs, neurons, nodes, parameters)

    objective = check_name(raw["objective"], "objective") if "objective" in raw else None
    if objective is not None:
        for k in ("loss", "outputs"):
            if k in raw:
                raise SpecError("give either 'objective' or 'outputs' + 'loss', not both", key=k)
        if objective not in nodes and objective not in neurons:
            raise SpecError(f"'{objective}' is not a node or neuron", key="objective")
        outputs: tuple[str, ...] = ()
        loss = None
    else:
        outputs = _names(raw["outputs"], "outputs") if "outputs" in raw else layered_outputs
        if not outputs:
            raise SpecError("say which neurons are 'outputs' (or give an 'objective')", key="outputs")
        for i, o in enumerate(outputs):
            if o not in neurons and o not in nodes:
                raise SpecError(f"'{o}' is not a neuron or node", key=f"outputs[{i}]")
        if "loss" not in raw:
            raise SpecError("a 'loss' is needed (half_sse, sse, mse, bce, cross_entropy or an expression)",
                            key="loss")
        loss = _string(raw["loss"], "loss").strip()

    wrt = _names(raw["wrt"], "wrt") if "wrt" in raw else parameters
    differentiable = set(parameters) | set(inputs)
    for i, w in enumerate(wrt):
        if w not in differentiable:
            raise SpecError(f"'{w}' is not a parameter or input", key=f"wrt[{i}]")
    if not wrt:
        raise SpecError("nothing to differentiate: the network has no parameters", key="wrt")

    l2, include_biases = None, False
    if "regularization" in raw:
        reg = _mapping(raw["regularization"], "regularization")
        _unknown_keys(reg, {"l2", "include_biases"}, "regularization")
        if "l2" not in reg:
            raise SpecError("needs 'l2: <lambda>'", key="regularization")
        l2 = number(reg["l2"], "regularization.l2")
        include_biases = reg.get("include_biases", False)
        if not isinstance(include_biases, bool):
            raise SpecError("must be true or false", key="regularization.include_biases")
        if objective is not None:
            raise SpecError("regularization goes with a 'loss', not an 'objective'", key="regularization")

    reduction = raw.get("reduction", "sum")
    if reduction not in ("sum", "mean"):
        raise SpecError(f"must be 'sum' or 'mean', got {_describe(reduction)}", key="reduction")
    backprop_weights = raw.get("backprop_weights", "old")
    if backprop_weights not in ("old", "updated"):
        raise SpecError(f"must be 'old' or 'updated', got {_describe(backprop_weights)}",
                        key="backprop_weights")
    learning_rate = number(raw["learning_rate"], "learning_rate") if "learning_rate" in raw else None
    if learning_rate is not None and learning_rate <= 0:
        raise SpecError("must be positive", key="learning_rate")
    if backprop_weights == "updated" and learning_rate is None:
        raise SpecError("'updated' needs a learning_rate", key="backprop_weights")

    params_values, examples = _values(raw, inputs, parameters, outputs)
    randomize = _mapping(raw["randomize"], "randomize") if "randomize" in raw else None
    return Spec(
        name=name, title=title, description=description, inputs=inputs, neurons=neurons,
        nodes=nodes, outputs=outputs, loss=loss, objective=objective, wrt=wrt,
        parameters=parameters, weights=tuple(weights), biases=tuple(biases), l2=l2,
        l2_include_biases=include_biases, params_values=params_values, examples=examples,
        has_data="data" in raw, reduction=reduction, learning_rate=learning_rate,
        backprop_weights=backprop_weights, randomize=randomize, file=file, raw=raw,
    )


def _check_namespace(inputs, neurons, nodes, parameters) -> None:
    """Every user name means one thing, and none clashes with a derived symbol."""
    owner: dict[str, str] = {}
    for kind, names in (("input", inputs), ("neuron", neurons), ("node", nodes),
                        ("parameter", parameters)):
        for n in names:
            if n in owner:
                raise SpecError(f"'{n}' is both a{'n' if owner[n][0] in 'aeiou' else ''} "
                                f"{owner[n]} and a{'n' if kind[0] in 'aeiou' else ''} {kind}", key=n)
            owner[n] = kind
    for n in list(neurons) + list(nodes):
        for derived in (f"net_{n}", f"out_{n}", f"t_{n}", f"delta_{n}"):
            if derived in owner:
                raise SpecError(f"'{derived}' clashes with the symbol the tool derives from '{n}'",
                                key=derived)


def _values(raw: dict, inputs, parameters, outputs) -> tuple[dict | None, tuple[Example, ...]]:
    input_set, output_set = set(inputs), set(outputs)
    values = _mapping(raw["values"], "values") if "values" in raw else {}
    _unknown_keys(values, {"inputs", "params", "targets"}, "values")
    params_values = None
    if "params" in values:
        params_values = _values_block(values["params"], "values.params", set(parameters), "a parameter")
    examples: list[Example] = []
    if "data" in raw:
        for k in ("inputs", "targets"):
            if k in values:
                raise SpecError("give inputs and targets in 'data' or in 'values', not both",
                                key=f"values.{k}")
        data = _list(raw["data"], "data")
        if not data:
            raise SpecError("needs at least one example", key="data")
        if len(data) > MAX_EXAMPLES:
            raise SpecError(f"more than {MAX_EXAMPLES} examples", key="data")
        if len(data) * (len(inputs) + len(outputs)) > MAX_VALUES:
            raise SpecError(f"more than {MAX_VALUES:,} input and target values (examples × "
                            "(inputs + outputs))", key="data")
        for i, item in enumerate(data):
            key = f"data[{i}]"
            item = _mapping(item, key)
            _unknown_keys(item, {"inputs", "targets"}, key)
            ins = _values_block(item.get("inputs", {}), f"{key}.inputs", input_set, "an input")
            tgs = _values_block(item.get("targets", {}), f"{key}.targets", output_set, "an output")
            _require_all(ins, inputs, f"{key}.inputs", "input")
            _require_all(tgs, outputs, f"{key}.targets", "target of output")
            examples.append(Example(ins, tgs))
    elif "inputs" in values or "targets" in values:
        ins = _values_block(values.get("inputs", {}), "values.inputs", input_set, "an input")
        tgs = _values_block(values.get("targets", {}), "values.targets", output_set, "an output")
        _require_all(ins, inputs, "values.inputs", "input")
        _require_all(tgs, outputs, "values.targets", "target of output")
        examples.append(Example(ins, tgs))
    if examples and params_values is None and not parameters:
        params_values = {}
    if params_values is not None or examples:
        _require_all(params_values or {}, parameters, "values.params", "parameter")
        if not examples:
            _require_all({}, list(inputs) + [f"t_{o}" for o in outputs], "values", "input/target")
            if not inputs and not outputs:
                examples.append(Example({}, {}))
    return params_values, tuple(examples)

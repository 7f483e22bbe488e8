"""A spec mapping (read from YAML or JSON) → a validated Spec; load_spec reads a file."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import sympy as sp

from ..errors import SpecError
from .fields import (
    as_mapping,
    as_names,
    as_string,
    check_name,
    describe,
    key_text,
    number,
    quote_user_text,
    refuse_unknown_keys,
)
from ..suggest import did_you_mean
from .batchnorm import batch_norm_parameters, batch_norms, check_batch_norm_names
from .files import parse_mapping, read_mapping
from .matrix_values import expand_matrix_values
from .marking import marking_from_mapping
from .model import L2_FORMS, l2_coefficient
from .model import FILE_NAME_PATTERN, MAX_ENTITIES, NEURON_KEYS, TOP_KEYS, Neuron, Spec
from .generators import expand_generated
from .recurrent import detached_edges
from .shorthand import layer_ties, layered_neurons
from .symbols import symbols_from_mapping
from .targets import undeclared_parameter
from .targets import loss_name, targets_from_inputs, used_targets
from .values import check_namespace, spec_values


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file.

    Raises :class:`SpecError` (naming file and key) for every mistake.
    """
    raw = read_mapping(path)
    try:
        return spec_from_mapping(raw, file=str(path))
    except SpecError as exc:
        raise exc.located(str(path)) from None


def _weight(value: Any, key: str) -> str | sp.Rational:
    """A weight in ``from``: a parameter's name, or a number for a fixed edge (a skip ``x: 1``)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number(value, key)
    if not isinstance(value, str):
        raise SpecError(f"a weight must be a parameter's name or a number, got {describe(value)}", key=key)
    return check_name(value, key)


def spec_from_text(text: str, file: str = "spec") -> Spec:
    """Validate a spec given as text (YAML or JSON) rather than a file; errors name ``file``.

    >>> spec_from_text('{"name": "t", "inputs": ["x"], "neurons": {"o": {"from": {"x": "w"}, '
    ...                '"activation": "identity"}}, "outputs": ["o"], "loss": "sse"}').parameters
    ('w',)
    """
    raw = parse_mapping(text, file)
    try:
        return spec_from_mapping(raw, file=file)
    except SpecError as exc:
        raise exc.located(file) from None


def _neuron(name: str, raw: Any, key: str) -> Neuron:
    raw = as_mapping(raw, key)
    refuse_unknown_keys(raw, NEURON_KEYS, key)
    if "from" not in raw:
        raise SpecError("a neuron needs 'from' (its sources and weights)", key=key)
    sources = as_mapping(raw["from"], f"{key}.from")
    if not sources:
        raise SpecError("a neuron needs at least one source", key=f"{key}.from")
    pairs = tuple((check_name(src, f"{key}.from"), _weight(param, f"{key}.from.{key_text(src)}"))
                  for src, param in sources.items())
    if len({src for src, _ in pairs}) != len(pairs):
        raise SpecError("two sources are the same name after Unicode normalisation", key=f"{key}.from")
    if "activation" not in raw:
        raise SpecError("a neuron needs an 'activation' (identity, sigmoid, tanh, relu, ...)",
                        key=f"{key}.activation")
    activation = as_string(raw["activation"], f"{key}.activation").strip()
    alpha = number(raw["alpha"], f"{key}.alpha") if "alpha" in raw else None
    if alpha is not None and activation != "leaky_relu":
        raise SpecError("'alpha' only goes with activation leaky_relu", key=f"{key}.alpha")
    bias = check_name(raw["bias"], f"{key}.bias") if raw.get("bias") is not None else None
    return Neuron(name=name, sources=pairs, activation=activation, alpha=alpha, bias=bias)


def spec_from_mapping(raw: Mapping[str, Any], *, file: str | None = None) -> Spec:
    """Validate a spec mapping (already read from YAML/JSON) into a :class:`Spec`."""
    raw = dict(as_mapping(raw, "(top level)"))
    refuse_unknown_keys(raw, TOP_KEYS, None)
    raw = expand_generated(raw)  # recurrent: / conv: → neurons, nodes and values by generated name
    if "layers" in raw:
        raw = expand_matrix_values(raw)  # W1: [[…]], x: […] → the generated scalar names
    if "name" not in raw:
        raise SpecError("a spec needs a 'name' (used for output file names)", key="name")
    name = as_string(raw["name"], "name")
    if not FILE_NAME_PATTERN.match(name):
        raise SpecError(f"'{name[:40]}' is not usable as a file name (letters, digits, '-', '_', '.')",
                        key="name")
    title = as_string(raw.get("title", ""), "title")
    description = as_string(raw.get("description", ""), "description")
    heading = {key: as_string(raw.get(key, ""), key) for key in ("subtitle", "course", "sheet", "notes")}

    if "layers" in raw:
        if "neurons" in raw:
            raise SpecError("give either 'layers' or 'neurons', not both", key="layers")
        inputs, neuron_maps, layered_outputs = layered_neurons(raw)
    else:
        if "tie" in raw:
            raise SpecError("only goes with 'layers' (with 'neurons', tie two edges by giving them the "
                            "same parameter name)", key="tie")
        for k in ("activation", "activations", "bias"):
            if k in raw:
                raise SpecError("only goes with 'layers' (give each neuron its own)", key=k)
        inputs = as_names(raw.get("inputs", []), "inputs")
        neuron_maps = as_mapping(raw.get("neurons", {}), "neurons")
        layered_outputs = ()
    node_maps = as_mapping(raw.get("nodes", {}), "nodes")
    if len(inputs) > MAX_ENTITIES:
        raise SpecError(f"more than {MAX_ENTITIES} inputs", key="inputs")
    if len(neuron_maps) + len(node_maps) > MAX_ENTITIES:  # refused before anything is built
        raise SpecError(f"more than {MAX_ENTITIES} neurons, nodes and weighted edges", key="neurons")
    neurons: dict[str, Neuron] = {}
    for key_name, body in neuron_maps.items():
        n = check_name(key_name, f"neurons.{key_text(key_name)}")
        if n in neurons:
            raise SpecError("the same name as another neuron after Unicode normalisation",
                            key=f"neurons.{key_text(key_name)}")
        neurons[n] = _neuron(n, body, f"neurons.{key_text(key_name)}")
    nodes = {}
    for key_name, text in node_maps.items():
        n = check_name(key_name, f"nodes.{key_text(key_name)}")
        if n in nodes:
            raise SpecError("the same name as another node after Unicode normalisation",
                            key=f"nodes.{key_text(key_name)}")
        nodes[n] = as_string(text, f"nodes.{key_text(key_name)}")
    size = len(neurons) + len(nodes) + sum(len(n.sources) for n in neurons.values())
    if size > MAX_ENTITIES:
        raise SpecError(f"more than {MAX_ENTITIES} neurons, nodes and weighted edges", key="neurons")
    if not neurons and not nodes:
        raise SpecError("a spec needs 'neurons', 'layers' or 'nodes'", key="neurons")

    weights: dict[str, None] = {}  # ordered sets: a list's `in` would make this quadratic
    biases: dict[str, None] = {}
    for n in neurons.values():
        for _, p in n.weighted_sources:
            weights.setdefault(p)
        if n.bias:
            biases.setdefault(n.bias)
    norms = batch_norms(raw)
    scales, shifts = batch_norm_parameters(norms)
    for p in scales:
        weights.setdefault(p)
    for p in shifts:
        biases.setdefault(p)
    for p in as_names(raw.get("params", []), "params"):
        weights.setdefault(p)
    biases = [b for b in biases if b not in weights]
    weights = list(weights)
    parameters = tuple(weights + biases)

    check_namespace(inputs, neurons, nodes, parameters)
    check_batch_norm_names(norms, {n: None for n in (*inputs, *neurons, *nodes, *parameters)})

    objective = check_name(raw["objective"], "objective") if "objective" in raw else None
    if objective is not None:
        for k in ("loss", "outputs"):
            if k in raw:
                raise SpecError("give either 'objective' or 'outputs' + 'loss', not both", key=k)
        if objective not in nodes and objective not in neurons:
            raise SpecError(f"'{objective}' is not a node or neuron", key="objective")
        outputs: tuple[str, ...] = ()
        loss = None
        if "targets" in raw:
            raise SpecError("goes with 'outputs' + 'loss', not an 'objective'", key="targets")
        targets_from, target_outputs = {}, ()
    else:
        outputs = as_names(raw["outputs"], "outputs") if "outputs" in raw else layered_outputs
        if not outputs:
            raise SpecError("say which neurons are 'outputs' (or give an 'objective')", key="outputs")
        for i, o in enumerate(outputs):
            if o not in neurons and o not in nodes and o not in norms:
                raise SpecError(f"'{o}' is not a neuron or node", key=f"outputs[{i}]")
        if "loss" not in raw:
            raise SpecError("a 'loss' is needed (half_sse, sse, mse, bce, cross_entropy or an expression)",
                            key="loss")
        loss = loss_name(as_string(raw["loss"], "loss"))
    targets_from = targets_from_inputs(raw, inputs, outputs)
    target_outputs = used_targets(loss, outputs)

    wrt = as_names(raw["wrt"], "wrt") if "wrt" in raw else parameters
    differentiable = set(parameters) | set(inputs)
    for i, w in enumerate(wrt):
        if w not in differentiable:
            raise SpecError(f"'{w}' is not a parameter or input", key=f"wrt[{i}]")
    if not wrt:
        undeclared_parameter(nodes, inputs, neurons)
        raise SpecError("nothing to differentiate: the network has no parameters", key="wrt")
    if targets_from and set(wrt) & set(inputs):
        raise SpecError("with 'targets: inputs' an input is also a target: differentiate with "
                        "respect to parameters", key="wrt")

    l2, l2_lambda, l2_form, include_biases = None, None, L2_FORMS[0], False
    if "regularization" in raw:
        reg = as_mapping(raw["regularization"], "regularization")
        refuse_unknown_keys(reg, {"l2", "include_biases", "form"}, "regularization")
        if "l2" not in reg:
            raise SpecError("needs 'l2: <lambda>'", key="regularization")
        l2_lambda = number(reg["l2"], "regularization.l2")
        l2_form = "".join(as_string(reg.get("form", L2_FORMS[0]), "regularization.form").split())
        if l2_form not in L2_FORMS:
            raise SpecError(f"unknown form {quote_user_text(reg['form'])} (choose from "
                            f"{', '.join(L2_FORMS)}){did_you_mean(l2_form, L2_FORMS)}", key="regularization.form")
        examples_m = len(raw["data"]) if isinstance(raw.get("data"), list) and raw["data"] else 1
        l2 = l2_coefficient(l2_lambda, l2_form, examples_m)
        include_biases = reg.get("include_biases", False)
        if not isinstance(include_biases, bool):
            raise SpecError("must be true or false", key="regularization.include_biases")
        if objective is not None:
            raise SpecError("regularization goes with a 'loss', not an 'objective'", key="regularization")

    reduction = raw.get("reduction", "sum")
    if reduction not in ("sum", "mean"):
        raise SpecError(f"must be 'sum' or 'mean', got {describe(reduction)}", key="reduction")
    backprop_weights = raw.get("backprop_weights", "old")
    if backprop_weights not in ("old", "updated"):
        raise SpecError(f"must be 'old' or 'updated', got {describe(backprop_weights)}",
                        key="backprop_weights")
    learning_rate = number(raw["learning_rate"], "learning_rate") if "learning_rate" in raw else None
    if learning_rate is not None and learning_rate <= 0:
        raise SpecError("must be positive", key="learning_rate")
    if backprop_weights == "updated" and learning_rate is None:
        raise SpecError("'updated' needs a learning_rate", key="backprop_weights")

    params_values, examples = spec_values(raw, inputs, parameters, outputs, target_outputs, targets_from)
    randomize = as_mapping(raw["randomize"], "randomize") if "randomize" in raw else None
    marking = marking_from_mapping(raw["marking"]) if "marking" in raw else None
    if "exam" in raw:
        exam_settings(raw["exam"])
    return Spec(
        name=name, title=title, description=description, **heading, inputs=inputs, neurons=neurons,
        nodes=nodes, outputs=outputs, loss=loss, objective=objective, wrt=wrt,
        parameters=parameters, weights=tuple(weights), biases=tuple(biases), l2=l2,
        l2_include_biases=include_biases, l2_lambda=l2_lambda, l2_form=l2_form, params_values=params_values, examples=examples,
        has_data="data" in raw, reduction=reduction, learning_rate=learning_rate,
        backprop_weights=backprop_weights, detached=detached_edges(raw), randomize=randomize,
        marking=marking, symbols=symbols_from_mapping(raw), file=file, raw=raw,
        targeted_outputs=target_outputs, targets_from=targets_from,
        batch_norms=norms, ties=layer_ties(raw.get("tie"), list(raw["layers"])) if "layers" in raw else {},
    )


MAX_MARKS = 1000


def exam_settings(raw: Any) -> dict[str, Any]:
    """A spec's ``exam:`` block, ``{marks: {question: number}, title: text}`` (the exam command
    checks the question names; ``title`` heads the sheets instead of the spec's title).

    >>> exam_settings({"marks": {"forward": 2, "gradients": 4.5}})
    {'marks': {'forward': 2, 'gradients': 4.5}}
    """
    body = as_mapping(raw, "exam")
    refuse_unknown_keys(body, {"marks", "title"}, "exam")
    if "title" in body and (not isinstance(body["title"], str) or not 0 < len(body["title"]) <= 200):
        raise SpecError("must be a text of 1 to 200 characters", key="exam.title")
    marks = as_mapping(body.get("marks", {}), "exam.marks")
    for name, value in marks.items():
        where = f"exam.marks.{key_text(name)}"
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_MARKS:
            raise SpecError(f"must be a number of marks from 0 to {MAX_MARKS}", key=where)
    return dict(body)

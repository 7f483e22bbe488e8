"""Gradient descent with the generated gradient function (WE-13's training loop).

Initialise (the spec's values, or weights from a seeded normal distribution and biases 0),
then repeat: forward pass, loss, backward pass, ``w ← w − η·∂E/∂w``. Every step uses the
whole data set of the spec (full-batch gradient descent, ``reduction`` as the spec says).

>>> from symbackprop import load_spec, derive
>>> run = train(derive(load_spec("examples/we05-221-sigmoid.yaml")), steps=2)  # doctest: +SKIP
>>> [round(v, 6) for v in run.losses]                                            # doctest: +SKIP
[0.018104, 0.016565, 0.015169]
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from .codegen import NumericFunction, numeric_function
from .derive import Derivation
from .errors import SpecError

__all__ = ["train", "TrainingRun", "initial_parameters", "training_data", "INITS"]

INITS = ("spec", "normal")


@dataclass
class TrainingRun:
    """What a run of gradient descent did: ``losses[k]`` and ``gradient_norms[k]`` are at
    the parameters after ``k`` steps (``k = 0 … steps``)."""

    name: str
    learning_rate: float
    losses: list[float] = field(default_factory=list)
    gradient_norms: list[float] = field(default_factory=list)
    initial_params: dict[str, float] = field(default_factory=dict)
    params: dict[str, float] = field(default_factory=dict)
    examples: int = 0
    form: str = ""

    @property
    def steps(self) -> int:
        return len(self.losses) - 1

    def to_dict(self) -> dict:
        return {"name": self.name, "learning_rate": self.learning_rate, "steps": self.steps,
                "examples": self.examples, "losses": self.losses, "gradient_norms": self.gradient_norms,
                "initial_params": self.initial_params, "params": self.params}


def initial_parameters(spec, init: str = "spec", *, seed: int | None = None, std: float = 1.0) -> dict[str, float]:
    """The starting parameters: the spec's ``values.params`` (``init="spec"``), or weights
    drawn from ``N(0, std²)`` with a seeded generator and biases 0 (``init="normal"``)."""
    if init == "spec":
        if spec.params_values is None:
            raise SpecError("the spec gives no parameter values: use --init normal (with --seed)",
                            key="values.params")
        return {p: float(v) for p, v in spec.params_values.items()}
    if init == "normal":
        rng = np.random.default_rng(seed)
        biases = set(spec.biases)
        draws = rng.normal(0.0, std, size=len(spec.parameters))
        return {p: 0.0 if p in biases else float(x) for p, x in zip(spec.parameters, draws)}
    raise SpecError(f"unknown initialisation '{init}' (choose {' or '.join(INITS)})", key="init")


def training_data(spec) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``(len(inputs), N)`` and targets ``(len(outputs), N)`` of the spec's examples."""
    if not spec.examples:
        raise SpecError("training needs examples: give values.inputs and values.targets, or data",
                        key="data")
    X = np.array([[float(ex.inputs[n]) for ex in spec.examples] for n in spec.inputs]).reshape(
        len(spec.inputs), len(spec.examples))
    T = np.array([[float(ex.targets[o]) for ex in spec.examples] for o in spec.outputs]).reshape(
        len(spec.outputs), len(spec.examples))
    return X, T


def _not_finite_at_start(f: NumericFunction, spec, start: Mapping[str, float], loss: float, g: np.ndarray) -> str:
    """Where a loss or gradient that is not finite at the starting values comes from (not the learning rate)."""
    head = f"the loss is {loss} at the starting values, before any step (not the learning rate)"
    with np.errstate(all="ignore"):
        for n, ex in enumerate(spec.examples, start=1):
            values = f.forward({k: float(v) for k, v in ex.inputs.items()}, {k: float(v) for k, v in start.items()})
            bad = [k for k, v in values.items() if not np.all(np.isfinite(np.asarray(v, dtype=float)))]
            if bad:
                where = f" of example {n}" if len(spec.examples) > 1 else ""
                return f"{head}: {bad[0]}{where} is {values[bad[0]]}"
    if math.isfinite(loss):
        p, v = next((p, v) for p, v in zip(f.wrt_params, g) if not math.isfinite(v))
        return (f"the gradient is not finite at the starting values, before any step (not the learning rate): "
                f"d{f.loss_symbol}/d{p} is {v}")
    return f"{head}: every forward value is finite, so the loss itself is undefined there (a log of 0 or less?)"


def train(derivation: Derivation, steps: int, learning_rate: float | None = None, *,
          params: Mapping[str, float] | None = None, function: NumericFunction | None = None,
          callback: Callable[[int, float, float], None] | None = None) -> TrainingRun:
    """Run ``steps`` steps of gradient descent on the spec's examples.

    ``learning_rate`` defaults to the spec's; ``params`` to the spec's values. ``callback``
    is called after each evaluation with ``(k, loss, gradient norm)``. Raises
    :class:`SpecError` without a learning rate, parameters or examples, and when the loss
    stops being finite (the step is too large).
    """
    spec = derivation.spec
    if learning_rate is None:
        if spec.learning_rate is None:
            raise SpecError("no learning rate: give --learning-rate or learning_rate in the spec",
                            key="learning_rate")
        learning_rate = float(spec.learning_rate)
    if not learning_rate > 0 or not math.isfinite(learning_rate):
        raise SpecError(f"the learning rate must be a positive number, got {learning_rate}", key="learning_rate")
    f = function or numeric_function(derivation)
    if not f.wrt_params:
        raise SpecError("nothing to train: no parameter is differentiated (wrt names only inputs)", key="wrt")
    start = dict(params) if params is not None else initial_parameters(spec)
    X, T = training_data(spec)
    theta = np.array([float(start[p]) for p in f.params])
    position = {p: i for i, p in enumerate(f.params)}
    trained = np.array([position[p] for p in f.wrt_params], dtype=int)
    run = TrainingRun(name=spec.name, learning_rate=float(learning_rate), initial_params=dict(start),
                      examples=X.shape[1], form=f.form)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps + 1):
            loss, g = f.packed(X, theta, T)
            norm = float(np.linalg.norm(g))
            if not (math.isfinite(loss) and math.isfinite(norm)):
                if k == 0:
                    raise SpecError(_not_finite_at_start(f, spec, start, loss, g), key="values")
                raise SpecError(f"the loss is {loss} after {k} steps: the learning rate "
                                f"{learning_rate:g} is too large", key="learning_rate")
            run.losses.append(loss)
            run.gradient_norms.append(norm)
            if callback is not None:
                callback(k, loss, norm)
            if k < steps:
                theta[trained] -= learning_rate * g
    run.params = {p: float(v) for p, v in zip(f.params, theta)}
    return run

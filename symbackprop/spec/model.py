"""What a validated spec is: the Spec, Neuron and Example records, the keys a spec may have and its limits."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

import sympy as sp

if TYPE_CHECKING:
    from .marking import MarkingPolicy

MAX_NAME_LENGTH = 32


MAX_SPEC_BYTES = 5_000_000


MAX_ENTITIES = 50_000  # neurons + nodes + weights; larger networks are refused


MAX_EXAMPLES = 10_000


MAX_VALUES = 1_000_000  # examples × (inputs + outputs)


TOO_LONG = "a number has more than 4300 digits"


MAX_MAGNITUDE = 1e15  # spec numbers; larger ones overflow float64 arithmetic soon after


NAME_PATTERN = re.compile(r"^[^\W\d_]\w*$", re.UNICODE)


FILE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


TOP_KEYS = {
    "name", "title", "subtitle", "course", "sheet", "notes", "description", "inputs", "neurons", "layers", "activation", "activations",
    "bias", "nodes", "params", "outputs", "loss", "regularization", "objective", "wrt",
    "values", "data", "reduction", "learning_rate", "backprop_weights", "randomize",
    "marking", "exam",
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
    description: str = ""                 # the instructor's note: printed in the instructor edition only
    subtitle: str = ""
    course: str = ""                      # running header of the documents (left)
    sheet: str = ""                       # running header (right), e.g. "Exercise sheet 4"
    notes: str = ""                       # more instructor notes (instructor edition only)
    l2: sp.Rational | None = None
    l2_include_biases: bool = False
    params_values: Mapping[str, sp.Rational] | None = None
    examples: tuple[Example, ...] = ()
    has_data: bool = False
    reduction: str = "sum"
    learning_rate: sp.Rational | None = None
    backprop_weights: str = "old"
    randomize: Mapping[str, Any] | None = None
    marking: MarkingPolicy | None = None   # the instructor's (spec key marking:); None: the defaults
    file: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def layered_shorthand(self) -> bool:
        """Written with the ``layers:`` shorthand (generated names ``x1``, ``h1_2``, ``w1_2_1``)."""
        return "layers" in (self.raw or {})

    @property
    def has_values(self) -> bool:
        """True when every input, parameter and target has a number."""
        return self.params_values is not None and bool(self.examples)

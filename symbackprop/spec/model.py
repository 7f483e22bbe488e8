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
    "marking", "symbols", "targets", "tie", "batch_norm", "recurrent", "conv", "exam",
}


L2_FORMS = ("lambda*sum", "lambda/2*sum", "lambda/(2m)*sum")   # λΣw², λ/2·Σw², λ/(2m)·Σw²


def l2_coefficient(lam: sp.Rational, form: str, m: int) -> sp.Rational:
    """The factor in front of Σw² for each L2 form (``m``: the number of examples).

    >>> [l2_coefficient(sp.Rational(1, 10), f, 4) for f in L2_FORMS]
    [1/10, 1/20, 1/80]
    """
    return {"lambda*sum": lam, "lambda/2*sum": lam / 2, "lambda/(2m)*sum": lam / (2 * m)}[form]


NEURON_KEYS = {"from", "activation", "bias", "alpha"}


@dataclass(frozen=True)
class Neuron:
    """One neuron: ``net = Σ param·source (+ bias)``, ``out = activation(net)``."""

    name: str
    sources: tuple[tuple[str, str | sp.Rational], ...]  # (source, parameter name or a constant weight)
    activation: str
    alpha: sp.Rational | None = None
    bias: str | None = None

    @property
    def weighted_sources(self) -> tuple[tuple[str, str], ...]:
        """The ``(source, parameter)`` pairs whose weight is a parameter (constant edges left out)."""
        return tuple((s, p) for s, p in self.sources if isinstance(p, str))


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
    l2: sp.Rational | None = None        # the coefficient c of the penalty c·Σw² (λ, λ/2 or λ/(2m))
    l2_lambda: sp.Rational | None = None  # λ as the spec gives it
    l2_form: str = "lambda*sum"           # how λ enters (L2_FORMS)
    l2_include_biases: bool = False
    params_values: Mapping[str, sp.Rational] | None = None
    examples: tuple[Example, ...] = ()
    has_data: bool = False
    reduction: str = "sum"
    learning_rate: sp.Rational | None = None
    backprop_weights: str = "old"
    detached: tuple[tuple[str, str], ...] = ()   # truncate: k, the edges (source, neuron) BPTT does not cross
    randomize: Mapping[str, Any] | None = None
    marking: MarkingPolicy | None = None   # the instructor's (spec key marking:); None: the defaults
    symbols: Mapping[str, str] = field(default_factory=dict)   # the lecture's loss/learning-rate names
    file: str | None = None
    targeted_outputs: tuple[str, ...] | None = None   # outputs whose target the loss uses; None: all
    targets_from: Mapping[str, str] = field(default_factory=dict)  # output -> input ('targets: inputs')
    ties: Mapping[int, tuple[int, bool]] = field(default_factory=dict)  # layer -> (its weights' layer, transposed)
    batch_norms: Mapping[str, Any] = field(default_factory=dict)  # name -> BatchNorm (batch statistics)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def layered_shorthand(self) -> bool:
        """Written with the ``layers:`` shorthand (generated names ``x1``, ``h1_2``, ``w1_2_1``)."""
        return "layers" in (self.raw or {})

    @property
    def target_outputs(self) -> tuple[str, ...]:
        """The outputs with a target node ``t_<output>``: those the loss uses."""
        return self.outputs if self.targeted_outputs is None else self.targeted_outputs

    @property
    def has_values(self) -> bool:
        """True when every input, parameter and target has a number."""
        return self.params_values is not None and bool(self.examples)

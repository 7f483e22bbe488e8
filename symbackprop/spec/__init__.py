"""Load and validate a network spec (YAML or JSON) into a :class:`Spec`.

Every mistake becomes a :class:`SpecError` naming the file and the key. Numbers are read
exactly (``0.35`` becomes ``7/20``); YAML is read with a safe loader that rejects
duplicate keys and tags.

>>> spec = spec_from_mapping({"name": "tiny", "inputs": ["x"],
...     "neurons": {"o": {"from": {"x": "w"}, "activation": "identity"}},
...     "outputs": ["o"], "loss": "half_sse"})
>>> spec.parameters
('w',)

Modules: :mod:`.model` (the records and limits), :mod:`.files` (safe reading), :mod:`.fields`
(one field at a time), :mod:`.shorthand` (``layers:``), :mod:`.matrix_values` (matrix-form
values), :mod:`.values` (values and data), :mod:`.mapping` (the whole spec).
"""
from .fields import check_name, key_text, number, quote_user_text
from .files import load_yaml, read_mapping, read_text, refuse_tag
from .mapping import load_spec, spec_from_mapping, spec_from_text
from .model import (
           MAX_ENTITIES,
           MAX_EXAMPLES,
           MAX_NAME_LENGTH,
           MAX_SPEC_BYTES,
           MAX_VALUES,
           Example,
           Neuron,
           Spec,
)

__all__ = ["Spec", "Neuron", "Example", "load_spec", "spec_from_mapping", "spec_from_text", "read_text", "load_yaml",
           "read_mapping", "number", "check_name", "key_text", "quote_user_text", "refuse_tag",
           "MAX_ENTITIES", "MAX_EXAMPLES", "MAX_NAME_LENGTH", "MAX_SPEC_BYTES", "MAX_VALUES"]

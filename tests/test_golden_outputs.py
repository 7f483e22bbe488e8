"""Every shipped example's outputs (derive's JSON and text, ``--exact``, ``--notation matrix``,
``--method paths`` and every render template's ``.tex``) are byte-identical to the manifest
``tests/data/golden-outputs.json``, recorded from the code before the speed work (issue 20).

Regenerate it only for an intended change of output: ``python tests/golden_outputs.py --write``.
"""
from __future__ import annotations

import json

import pytest

from golden_outputs import EXAMPLES, MANIFEST, outputs_of

GOLDEN = json.loads(MANIFEST.read_text())


@pytest.mark.parametrize("spec", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_outputs_are_byte_identical_to_the_manifest(spec):
    expected = {k: v for k, v in GOLDEN.items() if k.split("/", 1)[0] == spec.stem}
    assert expected, f"{spec.stem} has no golden outputs: regenerate the manifest"
    assert outputs_of(spec) == expected

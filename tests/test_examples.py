"""Data-driven: every shipped example reproduces the figures in examples/<name>.expected.json.

The expected figures come from the lectures (with their rounding as tolerance) or from the
independent stdlib scripts in examples/independent/ — never from symbackprop itself.
"""
from __future__ import annotations

import json
import random
import re
import subprocess
import sys

import pytest
import sympy as sp

from conftest import EXAMPLES, EXAMPLE_SPECS, ids, result
from symbackprop.expressions import FUNCTIONS, parse_expression

EXPECTED = sorted(EXAMPLES.glob("*.expected.json"))
CHECKS = [(path, i, check) for path in EXPECTED
          for i, check in enumerate(json.loads(path.read_text())["checks"])]
IDENT = re.compile(r"[^\W\d]\w*", re.UNICODE)


def lookup(data: dict, key: str):
    """``a.b.0``: dict keys, and list indices for the rows of matrices."""
    for part in key.split("."):
        if isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
            continue
        assert isinstance(data, dict) and part in data, f"result has no '{key}' (missing '{part}')"
        data = data[part]
    return data


def as_sympy(text: str) -> sp.Expr:
    names = {n: sp.Symbol(n) for n in IDENT.findall(text) if n not in FUNCTIONS}
    return parse_expression(text, names, where="expected")


def same_expression(a: sp.Expr, b: sp.Expr) -> bool:
    if sp.simplify(a - b) == 0:
        return True
    symbols = sorted(a.free_symbols | b.free_symbols, key=str)
    rng = random.Random(3)
    for _ in range(6):
        point = {s: sp.Rational(rng.randint(11, 89), 100) for s in symbols}
        if abs(sp.N((a - b).xreplace(point), 30)) > 1e-20:
            return False
    return True


def test_every_example_has_expected_figures():
    assert {p.stem for p in EXAMPLE_SPECS} == {p.name.removesuffix(".expected.json") for p in EXPECTED}


@pytest.mark.parametrize("method", ["backprop", "paths"])
@pytest.mark.parametrize("path,index,check", CHECKS,
                         ids=[f"{p.name.removesuffix('.expected.json')}:{c['key']}" for p, _, c in CHECKS])
def test_expected_figure(path, index, check, method):
    spec = EXAMPLES / json.loads(path.read_text())["spec"]
    if method == "paths" and spec.stem.endswith("-updated"):
        pytest.skip("the lecture variant is a backprop procedure (refused by --method paths)")
    got = lookup(result(str(spec), method), check["key"])
    if "expression" in check:
        if method == "paths" and check["key"].endswith(".expression"):
            pytest.skip("paths writes δs and gradients as path sums, not in δ terms")
        assert got is not None, f"{check['key']} was not produced"
        assert same_expression(as_sympy(got), as_sympy(check["expression"])), (got, check["expression"])
    elif isinstance(check["value"], list):
        assert got == pytest.approx(check["value"], abs=check["tol"])
    else:
        assert got == pytest.approx(check["value"], abs=check["tol"]), check.get("from")


INDEPENDENT = sorted((EXAMPLES / "independent").glob("*.py"))


@pytest.mark.parametrize("script", INDEPENDENT, ids=ids(INDEPENDENT))
def test_independent_scripts_give_the_expected_figures(script):
    printed = json.loads(subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                                        check=True).stdout)
    expected = {c["key"]: c["value"] for c in
                json.loads((EXAMPLES / f"{script.stem}.expected.json").read_text())["checks"] if "value" in c}
    assert printed, script
    for key, value in printed.items():
        assert key in expected, key
        assert expected[key] == pytest.approx(value, abs=1e-12)

"""Shared fixtures (the shipped examples and their derivations, computed once per session), the
test markers, and a work counter for tests that bound how much a refusal may cost.

Markers (registered in pyproject.toml; they only select, nothing is skipped by default):

* ``tex`` -- compiles with pdflatex (or reads a PDF with pdftotext): every test skipped without TeX;
* ``subprocess`` -- starts a real process with :mod:`subprocess` (the CLI, a generated module, pdftotext);
* ``slow`` -- takes seconds, or is one of many parameter cases of which a few stay in the fast loop.

They are applied here, centrally (see :func:`pytest_collection_modifyitems`). The fast loop is
``python -m pytest -q -m "not slow and not tex"``; ``python -m pytest -q`` still runs everything.
"""
from __future__ import annotations

import contextlib
import dis
import functools
import inspect
import json
import os
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings

# Property tests draw the same examples on every run (CI included): a failure reproduces, and no
# run meets an unlucky draw the last one never saw (one drew a tanh DAG whose expansion ran for
# half an hour in SymPy's assumptions).
settings.register_profile("symbackprop", derandomize=True, database=None)
settings.load_profile("symbackprop")

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
EXAMPLES = ROOT / "examples"
sys.path.insert(0, str(TESTS))  # tests/reference.py

# Processes the tests start (python -m symbackprop, generated modules) import the symbackprop this
# process tests -- the source tree's -- not whichever copy is installed.
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(
    os.pathsep) if p and Path(p).resolve() != ROOT])

EXAMPLE_SPECS = sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith("-lecture-answers.yaml"))


@functools.lru_cache(maxsize=None)
def derivation(path: str, method: str = "backprop"):
    """The derivation of one example spec by one method (cached across tests)."""
    from symbackprop import derive, load_spec

    return derive(load_spec(path), method)


@functools.lru_cache(maxsize=None)
def result(path: str, method: str = "backprop") -> dict:
    """The JSON result (as the CLI's --format json writes it) of one example."""
    from symbackprop.layers import NotLayered, layer_view, layer_view_dict

    d = derivation(path, method)
    out = d.to_dict()
    try:  # what `derive --notation matrix` adds for a layered network
        out["layer_view"] = layer_view_dict(layer_view(d))
    except NotLayered:
        pass
    return json.loads(json.dumps(out))


def runner() -> CliRunner:
    """A CLI runner whose result keeps stderr apart from stdout (on every click version)."""
    try:
        return CliRunner(mix_stderr=False)  # click < 8.2
    except TypeError:
        return CliRunner()


def ids(paths):
    return [p.stem for p in paths]


@pytest.fixture(params=EXAMPLE_SPECS, ids=ids(EXAMPLE_SPECS))
def example(request) -> Path:
    return request.param


# --------------------------------------------------------------------------- bounding work, not time

class _Overrun(BaseException):
    """Stops a block that has done more work than allowed (not an Exception: nothing catches it)."""


@contextlib.contextmanager
def at_most_steps(limit: int, what: str = "the block"):
    """Fail if the block runs more than ``limit`` Python steps (calls, lines, returns, as counted by
    :func:`sys.settrace`), and stop it as soon as it does.

    Work, not time: the same code takes the same number of steps on any machine, loaded or not, so
    a refusal that starts reading, expanding or evaluating what it should refuse fails here
    deterministically. (Work inside a single C call -- one big-integer power -- is one step.)
    """
    steps = 0

    def trace(frame, event, arg):
        nonlocal steps
        steps += 1
        if steps > limit:
            raise _Overrun
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        yield
    except _Overrun:
        pass
    finally:
        sys.settrace(previous)
        if steps > limit:  # also when the block ended with an exception of its own
            raise AssertionError(f"{what} took more than {limit:,} Python steps")


# --------------------------------------------------------------------------- markers

# Tests (file::function) that take seconds (measured with --durations=0; rerun it when tests change). Each module keeps fast tests of the same behaviour.
SLOW_TESTS = {
    'test_check_cli.py::test_lecture_solution_in_a_real_process',
    'test_cli.py::test_abs_in_a_node_has_the_real_derivative',
    'test_cli.py::test_deep_chain_does_not_crash',
    'test_cli.py::test_json_output_reproduces_we5_and_follows_the_contract',
    'test_cli.py::test_module_and_console_script_agree',
    'test_cli.py::test_output_is_deterministic',
    'test_cli.py::test_paths_method_and_stats',
    'test_cli.py::test_variant_report_says_it_is_not_the_gradient',
    'test_derive.py::test_huge_path_counts_are_counted_not_enumerated',
    'test_exact.py::test_sigmoid_values_are_closed_forms_with_decimals',
    'test_faults.py::test_a_fifo_is_refused_without_being_opened',
    'test_faults.py::test_an_exploding_expansion_is_bounded_by_the_expansion_limit',
    'test_faults.py::test_ctrl_c_during_derive_exits_130_with_one_line_and_no_file',
    'test_faults.py::test_ctrl_c_during_pdflatex_stops_it_and_writes_nothing',
    'test_faults.py::test_exact_arithmetic_stays_bounded',
    'test_faults.py::test_hostile_answers_are_refused_in_a_real_process',
    'test_layers.py::test_random_layered_networks',
    'test_render.py::test_same_spec_gives_byte_identical_tex',
    'test_training.py::test_code_command_writes_an_importable_module',
    'test_training.py::test_train_command_with_a_seeded_normal_start',
    'test_training.py::test_train_plot',
}

# Parametrised families: the parameter cases (ids) kept in the fast loop; the other cases are slow.
FAST_CASES = {
    'test_check_slips.py::test_every_change_of_every_slip_round_trips': {'we12-linreg-m-examples'},
    'test_check_slips.py::test_injected_slip_is_named': {'we05-w_TF-net_for_out-9', 'we05-w_AT-missing_fprime-4', 'we05-w_AT-fprime_as_activation-6'},
    'test_codegen.py::test_generated_function_equals_the_derivation_numbers': {'we11-composite-chain-auto', 'we11-composite-chain-scalar', 'we05-221-sigmoid-scalar'},
    'test_codegen.py::test_matrix_form_equals_scalar_form_and_finite_differences': {'1', '4', '2'},
    'test_codegen.py::test_standalone_module_prints_the_lecture_figures': {'we05-221-sigmoid', 'we11-composite-chain', 'we01-cubic-chain'},
    'test_exact.py::test_exact_decimals_equal_the_float_numbers': {'we11-composite-chain', 'we05-221-sigmoid', 'we05-221-sigmoid-updated'},
    'test_examples.py::test_expected_figure': {'we11-composite-chain:gradients.L.expanded-backprop', 'we05-221-sigmoid:updated_params.w_BB-paths', 'we05-221-sigmoid-updated:forward_after_update.T.out1-backprop'},
    'test_faults.py::test_net_1000_in_every_activation_and_loss': {'relu-cross_entropy', 'identity-cross_entropy', 'leaky_relu-cross_entropy'},
    'test_faults.py::test_no_traceback_in_a_real_process': {'quoted-number', 'yaml-tag', 'latin1.yaml'},
    'test_faults.py::test_resource_bombs_found_by_review': {},
    'test_faults.py::test_resource_exhaustion_is_refused_within_seconds_and_bounded_memory': {},
    'test_golden_outputs.py::test_outputs_are_byte_identical_to_the_manifest': {'we05-221-sigmoid', 'we09-matrix'},
    'test_gradients.py::test_gradient_equals_diff_of_composite': {'backprop-we11-composite-chain', 'paths-we05-221-sigmoid', 'backprop-we05-221-sigmoid'},
    'test_gradients.py::test_gradients_match_finite_differences_and_torch': {'we11-composite-chain', 'we05-221-sigmoid', 'we05-221-sigmoid-updated'},
    'test_gradients.py::test_paths_equal_backprop_exactly': {'we11-composite-chain', 'we03-three-formulas', 'we08-linear-regression'},
    'test_layers.py::test_layer_view_equals_the_scalar_derivation': {'we05-221-sigmoid-backprop', 'we05-221-sigmoid-updated-backprop', 'we05-221-sigmoid-paths'},
    'test_layers.py::test_shared_parameters_and_wrt_give_the_scalar_step': {'wrt-subset', 'weight-and-biases-shared-with-l2'},
    'test_render.py::test_templates_receive_plain_data_only': {'we11-composite-chain', 'we05-221-sigmoid', 'we05-221-sigmoid-updated'},
    'test_training.py::test_user_mistakes_exit_2_with_one_line': {'args6-missing.yaml', 'args3---learning-rate', 'args5---form'},
}

# Needs TeX although no skipif says so (it skips itself inside the test).
TEX_CASES = {
    "test_faults.py::test_more_real_outputs_are_recognised_and_replaced_without_force[render-pdf]",
}


def _key(item) -> str:
    return f"{Path(str(item.fspath)).name}::{item.originalname}"


def _case(item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.id if callspec is not None else None


def _needs_tex(item) -> bool:
    """Skipped without pdflatex (a skipif whose reason names it), or listed in TEX_CASES."""
    for mark in item.iter_markers("skipif"):
        if "pdflatex" in str(mark.kwargs.get("reason", "")):
            return True
    return f"{_key(item)}[{_case(item)}]" in TEX_CASES


def _code_objects(code: types.CodeType):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


_STARTERS = frozenset({"run", "Popen", "call", "check_call", "check_output"})


def _starts(code: types.CodeType) -> bool:
    """Does the bytecode call ``subprocess.run``, ``subprocess.Popen``, ...?"""
    instructions = list(dis.get_instructions(code))
    return any(a.opname == "LOAD_GLOBAL" and a.argval == "subprocess" and b.opname in ("LOAD_ATTR", "LOAD_METHOD")
               and b.argval in _STARTERS for a, b in zip(instructions, instructions[1:]))


_STARTS: dict[types.CodeType, bool] = {}  # code -> starts a process (False while being looked at)


def _uses_subprocess(function) -> bool:
    """Does ``function`` -- or a function or method of the test suite it names, recursively -- start a
    process with the subprocess module?"""
    function = inspect.unwrap(function)
    code = getattr(function, "__code__", None)
    if code is None:
        return False
    if code not in _STARTS:
        _STARTS[code] = False
        codes = list(_code_objects(code))
        namespace = getattr(function, "__globals__", {})
        helpers = []
        for name in sorted({name for c in codes for name in c.co_names}):
            helper = namespace.get(name)
            helpers += [m for m in vars(helper).values() if inspect.isfunction(m)] if inspect.isclass(helper) else [
                helper]
        _STARTS[code] = any(_starts(c) for c in codes) or any(
            Path(getattr(getattr(h, "__code__", None), "co_filename", "/")).resolve().parent == TESTS
            and _uses_subprocess(h) for h in helpers)
    return _STARTS[code]


def _starts_processes(item) -> bool:
    """The test, a fixture it uses, or a helper of the suite either calls, starts a process."""
    functions = [item.function]
    for name in item.fixturenames:
        for fixture in item._fixtureinfo.name2fixturedefs.get(name, ()):
            functions.append(fixture.func)
    return any(_uses_subprocess(f) for f in functions)


def _slow(item) -> bool:
    key = _key(item)
    if key in SLOW_TESTS:
        return True
    case = _case(item) or ""
    return key in FAST_CASES and not any(_same_case(case, kept) for kept in FAST_CASES[key])


def _same_case(case: str, kept: str) -> bool:
    """``kept`` names ``case``: the whole id, or its start as --durations printed it (cut at the first
    space, so ``args3---learning-rate`` names ``args3---learning-rate: must be a positive number``)."""
    return case == kept or (case.startswith(kept) and not case[len(kept)].isalnum())


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _needs_tex(item):
            item.add_marker(pytest.mark.tex)
        if _starts_processes(item):
            item.add_marker(pytest.mark.subprocess)
        if _slow(item):
            item.add_marker(pytest.mark.slow)

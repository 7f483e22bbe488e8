"""What a worker process does for one request: text in, a JSON-ready dict out (never raises).

Each job reads the spec from its text with the CLI's parser and limits, calls the same API the
CLI calls (``derive``, ``run_check``, the document registry, ``module_source``) and returns
its contract: ``derive --format json``, ``check --format json``, a download, or the explorer's
data. A user mistake is ``{"error": {"message", "key"}, "status": 400|422}``.

>>> r = run_job("derive", spec=open("examples/we05-221-sigmoid.yaml").read())
>>> r["generator"], round(r["gradients"]["w_AT"]["value"], 6)
('symbackprop', 0.000929)
>>> run_job("derive", spec="name: [")["error"]["message"]
'spec: YAML syntax error at line 2, column 1: did not find expected node content'
"""
from __future__ import annotations

import base64
import json
import secrets
from typing import Any, Callable

from ..check.answers import DEFAULT_POINTS, answer_file_from_mapping
from ..check.checker import AnswerInput, SolutionInput, run_check
from ..check.report import to_dict
from ..codegen.module import module_source
from ..derive import METHODS, Derivation, derive
from ..errors import SpecError
from ..expressions import ExpressionError
from ..files import JSON_MARKER
from ..render.explorer import explorer_view
from ..render.options import RenderOptions
from ..render.pdf import LatexError, compile_pdf, pdflatex_path
from ..render.registry import DOCUMENTS
from ..spec import Spec, spec_from_text
from ..spec.marking import DEFAULT
from ..templating import shipped_dir
from .limits import error

SPEC_LABEL = "spec"          # the "file" an error names: the client's text has no path
EXPLORE_MAX_PATHS = 2_000    # the explorer lists paths when a parameter has at most this many in all


EXAMPLES_DIR = shipped_dir("examples")


def _spec(text: Any) -> Spec:
    if not isinstance(text, str):
        raise SpecError("must be the spec's text (YAML or JSON) as a string", key="spec")
    return spec_from_text(text, SPEC_LABEL)


def derive_result(spec: str, method: str = "backprop") -> dict[str, Any]:
    """``symbackprop derive --format json`` for the spec's text."""
    if method not in METHODS:
        raise SpecError(f"unknown method '{str(method)[:40]}' (choose backprop or paths)", key="method")
    return JSON_MARKER | derive(_spec(spec), method).to_dict()


def explore_result(spec: str) -> dict[str, Any]:
    """The derive contract and the explorer's data (paths listed when there are few enough)."""
    parsed = _spec(spec)
    d = derive(parsed)
    paths = None
    if parsed.backprop_weights == "old" and sum(g.path_count for g in d.gradients.values()) <= EXPLORE_MAX_PATHS:
        paths = derive(parsed, "paths")
    return {"derivation": JSON_MARKER | d.to_dict(), "explorer": explorer_view(d, paths),
            "title": parsed.title or parsed.name}


def check_result(spec: str, answers: Any = None, solution: Any = None, syntax: str = "auto",
                 seed: int | None = None) -> dict[str, Any]:
    """``symbackprop check --format json`` for answers and/or a worked solution given as mappings."""
    parsed = _spec(spec)
    raw = {k: v for k, v in (("answers", answers), ("solution", solution), ("syntax", syntax)) if v is not None}
    given = answer_file_from_mapping(raw, "answers")
    inputs = [AnswerInput(w, a, s, where) for w, a, s, where in given.answers]
    worked = [SolutionInput("solution", tuple(given.solution))] if given.solution is not None else []
    if seed is None:
        seed = secrets.randbelow(2**32)
    elif isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise SpecError("must be a whole number from 0 to 2**32 - 1", key="seed")
    report = run_check(derive(parsed, strict_variant=False), answers=inputs, solutions=worked,
                       points=DEFAULT_POINTS, seed=seed, policy=parsed.marking or DEFAULT)
    return JSON_MARKER | to_dict(report)


def _document(d: Derivation, kind: str) -> str:
    return DOCUMENTS[kind].write(d, RenderOptions())[0][1]


DOWNLOADS: dict[str, tuple[str, str, str | None]] = {
    # kind -> (file suffix, media type, the document kind of the registry or None)
    "derivation.tex": ("-derivation.tex", "application/x-tex", "derivation"),
    "solution.tex": ("-solution.tex", "application/x-tex", "solution"),
    "paths.tex": ("-paths.tex", "application/x-tex", "paths"),
    "derivation.pdf": ("-derivation.pdf", "application/pdf", "derivation"),
    "solution.pdf": ("-solution.pdf", "application/pdf", "solution"),
    "module.py": ("_gradients.py", "text/x-python", None),
    "derivation.json": (".json", "application/json", None),
}


def download_result(spec: str, kind: str) -> dict[str, Any]:
    """One file for the page's download buttons: ``{filename, media_type, base64}``."""
    if kind not in DOWNLOADS:
        raise SpecError(f"unknown download (choose {', '.join(DOWNLOADS)})", key="kind")
    parsed = _spec(spec)
    suffix, media, document = DOWNLOADS[kind]
    method = DOCUMENTS[document].method or "backprop" if document else "backprop"
    d = derive(parsed, method)
    if kind == "module.py":
        data = module_source(d).encode()
    elif kind == "derivation.json":
        data = (json.dumps(JSON_MARKER | d.to_dict(), indent=2, ensure_ascii=False) + "\n").encode()
    elif kind.endswith(".pdf"):
        try:
            data = compile_pdf(_document(d, document), f"{parsed.name}-{document}")
        except LatexError as exc:
            raise SpecError(str(exc), key="kind") from None
    else:
        data = _document(d, document).encode()
    return {"filename": parsed.name + suffix, "media_type": media, "base64": base64.b64encode(data).decode()}


def examples_result() -> dict[str, Any]:
    """The shipped example specs: ``{"examples": [{name, title, spec}]}`` (text, not paths)."""
    items = []
    for path in sorted(EXAMPLES_DIR.glob("we*.yaml")):
        if path.name.endswith("-answers.yaml"):
            continue
        text = path.read_text(encoding="utf-8")
        try:
            title = spec_from_text(text, path.name).title
        except SpecError:  # pragma: no cover - the shipped examples are valid (tests/test_examples.py)
            continue
        items.append({"name": path.stem, "title": title or path.stem, "spec": text})
    return {"examples": items, "tex": pdflatex_path() is not None}


JOBS: dict[str, Callable[..., dict[str, Any]]] = {
    "derive": derive_result, "explore": explore_result, "check": check_result,
    "download": download_result, "examples": examples_result,
}


def run_job(name: str, **kwargs: Any) -> dict[str, Any]:
    """Run job ``name``; a user mistake becomes :func:`error` (never an exception or a traceback)."""
    try:
        return JOBS[name](**kwargs)
    except SpecError as exc:   # the CLI names the spec file; here the spec is the client's text
        located = exc if exc.file or name == "check" else exc.located(SPEC_LABEL)
        return error(str(located), exc.key)
    except ExpressionError as exc:
        return error(f"{SPEC_LABEL}: {exc}")
    except TypeError as exc:   # a body with unknown or missing fields reaches the job as arguments
        return error(f"bad request: {str(exc).split(') ', 1)[-1][:200]}", status=400)
    except RecursionError:
        return error("the request is too large to handle (recursion limit)", status=413)

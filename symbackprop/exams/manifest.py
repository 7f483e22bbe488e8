"""The variant manifest (``<name>-variants.json``): every variant's values and expected answers.

The contract between ``symbackprop exam`` and its readers (LMS export, class grading); its
format is docs/commands/exam.md's "The manifest" (format ``symbackprop-exam-manifest``,
version 1). Answers are named as a worked-solution file names them (the checker's Worksheet
keys) and read from each variant's Derivation, never computed here. With
``backprop_weights: updated`` the δ, gradient and update answers are the lecture's variant —
what the sheet asks for.

>>> from symbackprop import load_spec, spec_from_mapping
>>> from symbackprop.exams.variants import draw_variants
>>> raw = dict(load_spec("examples/we05-221-sigmoid.yaml").raw)
>>> spec = spec_from_mapping({**raw, "randomize": {"params": {"low": -1, "high": 1, "step": 0.1}}})
>>> m = build_manifest(spec, draw_variants(spec, 2, seed=7), seed=7, questions=None, sig=3)
>>> [q["name"] for q in m["questions"]], m["variants"][1]["id"]
(['forward', 'deltas', 'gradients', 'update', 'second_pass', 'loss_after'], 'v002')
>>> a = m["variants"][0]["answers"]["dE_dw_AT"]
>>> a["question"], a["shown"] == shown(a["value"], 3)
('gradients', True)
>>> v = variant_spec(m, "v001")
>>> {p: float(x) for p, x in v.params_values.items()} == m["variants"][0]["values"]["params"]
True
"""
from __future__ import annotations

import copy
import csv
import io
import json
import math
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..errors import SpecError
from ..spec import Spec, read_text, spec_from_mapping
from .figures import shown, tolerance
from .questions import QUESTIONS, asked, loss_symbol

MANIFEST_SUFFIX = "-variants.json"
FORMAT = "symbackprop-exam-manifest"
VERSION = 1
MAX_MANIFEST_BYTES = 50_000_000


def _json(value: Any, where: str) -> Any:
    """``value`` with JSON types only (a spec read from YAML may hold other scalars)."""
    if isinstance(value, Mapping):
        return {str(k): _json(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SpecError("must be a finite number", key=where)
        return value
    return str(value)


def spec_stem(spec: Spec) -> str:
    """The spec file's stem (the spec's name when it was not read from a file)."""
    return Path(spec.file).stem if spec.file else spec.name


def default_marks(spec: Spec) -> dict[str, float]:
    """The spec's ``exam: {marks: {question: number}}`` (empty without one)."""
    exam = spec.raw.get("exam") or {}
    return {str(k): float(v) for k, v in (exam.get("marks") or {}).items()}


def build_manifest(spec: Spec, variants: Sequence[Any], *, seed: int, questions: str | Iterable[str] | None,
                   sig: int, ids: Sequence[str] | None = None,
                   marks: Mapping[str, float] | None = None) -> dict:
    """The manifest of ``variants`` (from :func:`~symbackprop.exams.variants.draw_variants`).

    ``questions`` is a ``--questions`` selection (``"forward,gradients:w_AT"`` or a list of
    items; None: every question the spec fits); ``ids`` the student IDs, one per variant
    (default ``v001``…); ``marks`` per question name (default: the spec's ``exam.marks``, else
    one mark per figure asked).
    """
    if not variants:
        raise SpecError("an exam needs at least one variant", key="variants")
    if ids is not None and len(ids) != len(variants):
        raise SpecError(f"{len(ids)} IDs for {len(variants)} variants", key="roster")
    if ids is None and variants and all(getattr(v, "id", None) for v in variants):
        ids = [v.id for v in variants]     # drawn for a roster
    width = max(3, len(str(len(variants))))
    chosen = asked(variants[0].derivation, questions)
    given = {**default_marks(spec), **(marks or {})}
    for name in given:
        if name not in QUESTIONS:
            raise SpecError(f"unknown question (known: {', '.join(QUESTIONS)})", key=f"exam.marks.{name[:40]}")
    policy = spec.marking
    out_questions = []
    for q in chosen:
        names = [name for name, _ in q.figures(variants[0].derivation)]
        out_questions.append({"name": q.name, "title": q.title, "answers": names,
                              "marks": float(given.get(q.name, len(names)))})
    out_variants = []
    for i, v in enumerate(variants):
        raw = v.spec.raw
        entry: dict[str, Any] = {"number": v.number,
                                 "id": ids[i] if ids is not None else f"v{v.number:0{width}d}",
                                 "values": _json(raw.get("values") or {}, "values")}
        if "data" in raw:
            entry["data"] = _json(raw["data"], "data")
        answers = {}
        for q in chosen:
            for name, value in q.figures(v.derivation):
                rule = policy.tolerance_for(name) if policy is not None else None
                answers[name] = {"value": float(value), "shown": shown(value, sig),
                                 "tolerance": tolerance(value, sig, rule), "question": q.name}
        entry["answers"] = answers
        out_variants.append(entry)
    return {"format": FORMAT, "version": VERSION, "spec_name": spec_stem(spec), "spec": _json(spec.raw, "spec"),
            "loss": loss_symbol(variants[0].derivation),
            "tolerance": "marking" if policy is not None else "half_unit",
            "seed": seed, "sig": sig, "questions": out_questions, "variants": out_variants}


def key_csv(manifest: Mapping) -> str:
    """The marking key as CSV: one row per variant and figure (``id, number, question, answer,
    value, shown, tolerance``), in the manifest's order; values at full precision (``repr``).

    >>> key_csv({"variants": [{"id": "s1", "number": 1, "answers": {"E": {"value": 0.5, "shown": "0.5",
    ...     "tolerance": 0.0005, "question": "forward"}}}]}).splitlines()
    ['id,number,question,answer,value,shown,tolerance', 's1,1,forward,E,0.5,0.5,0.0005']
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "number", "question", "answer", "value", "shown", "tolerance"])
    for v in manifest["variants"]:
        for name, a in v["answers"].items():
            writer.writerow([v["id"], v["number"], a["question"], name, repr(float(a["value"])), a["shown"],
                             repr(float(a["tolerance"]))])
    return out.getvalue()


def manifest_text(manifest: Mapping) -> str:
    """The file's text: sorted keys, two-space indent, UTF-8, a final newline (byte-identical)."""
    return json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------ reading
def _need(mapping: Mapping, key: str, kind: type | tuple, where: str) -> Any:
    if key not in mapping:
        raise SpecError("missing", key=f"{where}.{key}" if where else key)
    value = mapping[key]
    if not isinstance(value, kind) or (kind in (int, float, (int, float)) and isinstance(value, bool)):
        raise SpecError(f"must be {_KIND_WORDS.get(kind, 'of another type')}", key=f"{where}.{key}" if where else key)
    return value


_KIND_WORDS = {dict: "a mapping", list: "a list", str: "a string", int: "a whole number",
               (int, float): "a number"}


def validate_manifest(m: Any) -> dict:
    """``m`` if it has the manifest's shape, else :class:`SpecError` naming the first bad key."""
    if not isinstance(m, dict):
        raise SpecError("must be a JSON object", key="manifest")
    if m.get("format") != FORMAT:
        raise SpecError(f"must be '{FORMAT}' (is this an exam manifest?)", key="format")
    if m.get("version") != VERSION:
        raise SpecError(f"unsupported version (this symbackprop reads version {VERSION})", key="version")
    _need(m, "spec_name", str, "")
    _need(m, "spec", dict, "")
    _need(m, "seed", int, "")
    sig = _need(m, "sig", int, "")
    if not 1 <= sig <= 15:
        raise SpecError("must be from 1 to 15", key="sig")
    names: dict[str, str] = {}
    for i, q in enumerate(_need(m, "questions", list, "")):
        where = f"questions[{i}]"
        if not isinstance(q, dict):
            raise SpecError("must be a mapping", key=where)
        name = _need(q, "name", str, where)
        _need(q, "title", str, where)
        marks = _need(q, "marks", (int, float), where)
        if not math.isfinite(marks) or marks < 0:
            raise SpecError("must be a number ≥ 0", key=f"{where}.marks")
        for a in _need(q, "answers", list, where):
            if not isinstance(a, str):
                raise SpecError("must be a list of answer names", key=f"{where}.answers")
            names[a] = name
    variants = _need(m, "variants", list, "")
    if not variants:
        raise SpecError("must list at least one variant", key="variants")
    seen: set[str] = set()
    for i, v in enumerate(variants):
        where = f"variants[{i}]"
        if not isinstance(v, dict):
            raise SpecError("must be a mapping", key=where)
        _need(v, "number", int, where)
        vid = _need(v, "id", str, where)
        if vid in seen:
            raise SpecError(f"repeats the id '{vid[:40]}'", key=f"{where}.id")
        seen.add(vid)
        _need(v, "values", dict, where)
        if "data" in v:
            _need(v, "data", list, where)
        answers = _need(v, "answers", dict, where)
        if set(answers) != set(names):
            missing = sorted(set(names) ^ set(answers))
            raise SpecError(f"the answers do not match the questions' (first difference: {missing[0][:40]})",
                            key=f"{where}.answers")
        for name, a in answers.items():
            at = f"{where}.answers.{name}"
            if not isinstance(a, dict):
                raise SpecError("must be a mapping", key=at)
            value = _need(a, "value", (int, float), at)
            tol = _need(a, "tolerance", (int, float), at)
            _need(a, "shown", str, at)
            if _need(a, "question", str, at) != names[name]:
                raise SpecError(f"must be '{names[name]}'", key=f"{at}.question")
            if not math.isfinite(value):
                raise SpecError("must be a finite number", key=f"{at}.value")
            if not math.isfinite(tol) or tol < 0:
                raise SpecError("must be a number ≥ 0", key=f"{at}.tolerance")
    return m


def load_manifest(path: str | Path) -> dict:
    """Read and validate a manifest file (:class:`SpecError` naming the file and key otherwise)."""
    text = read_text(path, "manifest", MAX_MANIFEST_BYTES)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"is not valid JSON ({exc.msg}, line {exc.lineno})", key="manifest").located(str(path)) \
            from None
    try:
        return validate_manifest(raw)
    except SpecError as exc:
        raise exc.located(str(path)) from None


def variant_spec(manifest: Mapping, variant: Mapping | int | str) -> Spec:
    """The spec of one variant (a variant entry, its ``number`` or its ``id``), ready to ``derive``."""
    if not isinstance(variant, Mapping):
        found = [v for v in manifest["variants"]
                 if (v["id"] == variant if isinstance(variant, str) else v["number"] == variant)]
        if not found:
            raise SpecError(f"no variant {str(variant)[:40]!r} in the manifest", key="variants")
        variant = found[0]
    raw = copy.deepcopy(dict(manifest["spec"]))
    raw["values"] = copy.deepcopy(dict(variant["values"]))
    if "data" in variant:
        raw["data"] = copy.deepcopy(list(variant["data"]))
    raw.pop("randomize", None)
    return spec_from_mapping(raw, file=f"{manifest['spec_name']}.yaml")


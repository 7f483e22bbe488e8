"""What a worker does: grade submissions against their variants, each variant derived once per process.

:func:`grade_submission` makes one record (the schema in :mod:`symbackprop.grade`) from one
:class:`~symbackprop.grade.submissions.Submission`. The variant's derivation and the checker's
worksheet are made once per worker process and kept (:func:`prepared`), so every submission of
a variant shares them. :func:`grade_chunk` grades a list of submissions with a time limit per
submission: a submission that runs out of time gets an error record and the chunk stops, so
the caller restarts the worker (the only way to stop a runaway computation for good) and
grades the rest elsewhere.

>>> from symbackprop import load_spec
>>> from symbackprop.exams.manifest import build_manifest
>>> from symbackprop.exams.variants import draw_variants
>>> from symbackprop.grade.submissions import parse_text
>>> spec = load_spec("examples/we05-221-sigmoid.yaml")
>>> manifest = build_manifest(spec, draw_variants(spec, 1, seed=3), seed=3, questions="forward", sig=3)
>>> shown = {n: a["shown"] for n, a in manifest["variants"][0]["answers"].items()}
>>> text = "".join(f"{n} = {v}\\n" for n, v in shown.items() if n != "E")
>>> r = grade_submission(manifest, parse_text("v001", text, "v001.txt"), Scheme())
>>> r["status"], r["total"], r["out_of"], [f["status"] for f in r["figures"] if f["name"] == "E"]
('graded', 6.0, 7.0, ['missing'])
"""
from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from ..check.checker import SolutionGrader, SolutionInput
from ..check.solution import Figure, Worksheet
from ..check.solution.precision import stated_figure, within
from ..derive import derive
from ..errors import SpecError
from ..exams.figures import shown
from ..exams.manifest import variant_spec
from .marks import Scheme, question_marks
from .submissions import Submission

TIME_LIMIT = 30.0
"""Seconds one submission may take to grade (a WE-13-sized sheet takes well under one)."""
CACHE = 256
"""Prepared variants a worker keeps (a class of 2,000 with a variant each passes through)."""
MAX_WORKING = 240


def manifest_digest(manifest: Mapping) -> str:
    """A hash of the manifest's content (a result is reused only for the same manifest)."""
    return hashlib.sha256(json.dumps(manifest, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass
class Prepared:
    """One variant, ready to grade: the checker's grader and the manifest's answers resolved."""

    grader: SolutionGrader
    answers: dict[str, dict]            # the manifest's answers of the variant, by name
    keys: dict[str, str]                # worksheet key → manifest answer name


_PREPARED: "OrderedDict[tuple[str, str], Prepared]" = OrderedDict()
_LOCK = threading.Lock()


def prepared(manifest: Mapping, variant: Mapping, digest: str) -> Prepared:
    """The variant's :class:`Prepared` (made on first use in this process, then reused)."""
    key = (digest, variant["id"])
    with _LOCK:
        if key in _PREPARED:
            _PREPARED.move_to_end(key)
            return _PREPARED[key]
    grader = SolutionGrader(derive(variant_spec(manifest, variant), strict_variant=False))
    ws = grader.worksheet
    keys = {}
    for name in variant["answers"]:
        q = ws.resolve(name)
        if q is None:
            raise SpecError(f"the manifest's answer '{name[:40]}' is not a figure of its network", key="answers")
        keys[q.key] = name
    made = Prepared(grader, dict(variant["answers"]), keys)
    with _LOCK:
        _PREPARED[key] = made
        while len(_PREPARED) > CACHE:
            _PREPARED.popitem(last=False)
    return made


def error_record(sub: Submission, reason: str, manifest: Mapping, variant: str | None = None, *,
                 transient: bool = False) -> dict:
    """The record of a submission that could not be graded: no marks, one line of ``reason``
    (``transient``: the machine's fault — a time or memory limit, a dead worker — so it is not
    kept for the next run, which tries again)."""
    out_of = sum(float(q["marks"]) for q in manifest["questions"])
    return {"id": sub.id, "variant": variant, "source": sub.source, "digest": sub.digest, "status": "error",
            "reason": " ".join(reason.split())[:300], "total": 0.0, "out_of": out_of,
            "questions": [{"name": q["name"], "title": q["title"], "marks": 0.0, "out_of": float(q["marks"])}
                          for q in manifest["questions"]],
            "figures": [], "ignored": [], "summary": "", "likely_cause": None,
            **({"transient": True} if transient else {})}


def numbered(manifest: Mapping) -> bool:
    """Whether the manifest's variants are numbered ``v001``… (drawn without a roster)."""
    width = max(3, len(str(len(manifest["variants"]))))
    return all(v["id"] == f"v{v['number']:0{width}d}" for v in manifest["variants"])


def find_variant(manifest: Mapping, sub: Submission) -> tuple[Mapping | None, str]:
    """The variant a submission answers, or None and why not.

    A student whose ID has a variant (an exam drawn for a roster) answers that one: a file that
    names another is refused, or anyone could mark themselves against a friend's key. A variant
    named by the student's own file counts only in an exam of numbered variants; one a platform
    recorded (Moodle's right answers) is taken as recorded.
    """
    by_id = {v["id"]: v for v in manifest["variants"]}
    own = by_id.get(sub.id)
    if sub.variant is None or sub.variant == sub.id:
        return own, "" if own is not None else f"no variant for the student ID '{sub.id}' in the manifest " \
                                               "(unknown student ID, and the submission names no variant)"
    if sub.claimed and own is not None:
        return None, (f"names the variant '{sub.variant}', but the variant drawn for this student is "
                      f"'{sub.id}'")
    if sub.claimed and not numbered(manifest):
        return None, (f"names the variant '{sub.variant}', but this exam was drawn for a roster and "
                      f"'{sub.id}' is not on it")
    found = by_id.get(sub.variant)
    return found, "" if found is not None else f"no variant '{sub.variant}' in the manifest"


def _usable(ws: Worksheet, entries: Sequence[tuple[str, str, str]], asked: Mapping[str, str]
            ) -> tuple[list, list[str], dict[str, str]]:
    """The entries the checker can grade; the ignored ones (with why); unreadable figures by key.

    Only figures the exam asks for are graded: an unasked one (a gradient on an update-only
    exam) could otherwise carry a wrong answer forward into credit.
    """
    keep, ignored, unreadable, seen = [], [], {}, set()
    for name, value, where in entries:
        q = ws.resolve(name)
        if q is None:
            ignored.append(f"{name}: not a figure of this network")
            continue
        if q.key not in asked:
            ignored.append(f"{name}: not asked in this exam (not graded)")
            continue
        if q.key in seen:
            ignored.append(f"{name}: a second value for {q.key} (the first one is graded)")
            continue
        seen.add(q.key)
        try:
            stated_figure(value, where)
        except SpecError as exc:
            unreadable[q.key] = value
            ignored.append(f"{name}: {exc.message}")
            continue
        keep.append((name, value, where))
    return keep, ignored, unreadable


def _working(ws: Worksheet, name: str, answers: Mapping[str, dict], sig: int) -> tuple[str, str]:
    """How the figure is computed: its formula in the sheet's names, and the correct values it uses."""
    q = ws.resolve(name)
    if q is None or q.formula is None:
        return "", ""
    inputs = []
    for s in sorted(q.formula.free_symbols, key=str)[:8]:
        used = ws.by_symbol.get(s)
        if used is not None:
            given = answers[used.key]["shown"] if used.key in answers else shown(used.exact, sig)
            inputs.append(f"{used.key} = {given}")
    text = f"{q.key} = {ws.display(q.formula)}"
    if len(text) > MAX_WORKING:
        text = text[:MAX_WORKING - 1] + "…"
    return text, ", ".join(inputs)


def _figure(name: str, answer: Mapping, fig: Figure | None, written: str | None, scheme: Scheme,
            out_of: float, working: tuple[str, str]) -> dict:
    status = fig.status if fig is not None else ("unreadable" if written is not None else "missing")
    slip = fig.slips[0] if fig is not None and fig.slips else None
    credit = scheme.credit(status, slip.key if slip else None)
    if status == "insufficient_precision" and not within(fig.value, fig.exact, fig.stated):
        credit = 0.0   # too coarse, and right only from the student's own wrong figures: no credit
    return {"name": name, "question": answer["question"], "written": fig.written if fig is not None else written,
            "status": status, "credit": credit, "marks": round(credit * out_of, 6), "out_of": out_of,
            "correct": answer["shown"], "slip": slip.key if slip else None,
            "slip_title": slip.title if slip else "", "slip_detail": slip.detail if slip else "",
            "note": fig.note if fig is not None else "", "working": working[0], "using": working[1]}


def grade_submission(manifest: Mapping, sub: Submission, scheme: Scheme, digest: str | None = None) -> dict:
    """The record of one submission: its figures graded by the checker, marked by ``scheme``."""
    if sub.error is not None:
        return error_record(sub, sub.error, manifest)
    variant, why = find_variant(manifest, sub)
    if variant is None:
        return error_record(sub, why, manifest)
    ready = prepared(manifest, variant, digest or manifest_digest(manifest))
    ws = ready.grader.worksheet
    keep, ignored, unreadable = _usable(ws, sub.entries, ready.keys)
    if keep:
        result = ready.grader.grade(SolutionInput(sub.source, tuple(keep)))
        graded = {f.key: f for f in result.figures}
        summary, cause = result.summary, result.likely_cause.key if result.likely_cause else None
    else:
        graded, summary, cause = {}, "No figure could be graded.", None
    share = {q["name"]: float(q["marks"]) / max(1, len(q["answers"])) for q in manifest["questions"]}
    figures = []
    for key, name in ready.keys.items():
        answer = ready.answers[name]
        fig = graded.get(key)
        working = (_working(ws, name, ready.answers, manifest["sig"]) if fig is None or fig.status != "correct"
                   else ("", ""))
        figures.append(_figure(name, answer, fig, unreadable.get(key), scheme, share[answer["question"]], working))
    order = {name: i for q in manifest["questions"] for i, name in enumerate(q["answers"])}
    qindex = {q["name"]: i for i, q in enumerate(manifest["questions"])}
    figures.sort(key=lambda f: (qindex[f["question"]], order[f["name"]]))
    questions = question_marks(figures, manifest["questions"])
    return {"id": sub.id, "variant": variant["id"], "source": sub.source, "digest": sub.digest,
            "status": "graded", "reason": "", "total": round(sum(q["marks"] for q in questions), 6),
            "out_of": sum(q["out_of"] for q in questions), "questions": questions, "figures": figures,
            "ignored": ignored, "summary": summary, "likely_cause": cause}


def guarded(manifest: Mapping, sub: Submission, scheme: Scheme, digest: str) -> dict:
    """:func:`grade_submission`, with any failure of this one submission as its error record."""
    try:
        return grade_submission(manifest, sub, scheme, digest)
    except SpecError as exc:
        return error_record(sub, str(exc), manifest)
    except MemoryError:
        return error_record(sub, "grading needed more memory than one submission may use", manifest, transient=True)
    except RecursionError:
        return error_record(sub, "the submission is nested too deeply to grade", manifest)
    except Exception as exc:  # noqa: BLE001 - one student's failure must not stop the class
        return error_record(sub, f"could not be graded ({type(exc).__name__}: {str(exc)[:120]})", manifest)


def grade_chunk(manifest: Mapping, subs: Sequence[Submission], scheme: Scheme, digest: str,
                time_limit: float = TIME_LIMIT) -> dict[str, Any]:
    """Grade ``subs`` in order, each within ``time_limit`` seconds.

    Returns ``{"records": [...], "rest": [submissions not graded], "tainted": bool}``: when one
    runs out of time it gets an error record, the rest are handed back, and ``tainted`` tells
    the caller to restart this worker (the runaway thread cannot be stopped otherwise).
    """
    records: list[dict] = []
    for i, sub in enumerate(subs):
        box: list[dict] = []
        worker = threading.Thread(target=lambda s=sub: box.append(guarded(manifest, s, scheme, digest)),
                                  name=f"grade-{sub.id}", daemon=True)
        worker.start()
        worker.join(time_limit)
        if not box:
            records.append(error_record(sub, f"grading took longer than {time_limit:g} s (the limit per "
                                             "submission)", manifest, transient=True))
            return {"records": records, "rest": list(subs[i + 1:]), "tainted": True}
        records.append(box[0])
    return {"records": records, "rest": [], "tainted": False}

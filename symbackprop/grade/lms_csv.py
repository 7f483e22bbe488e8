r"""A learning platform's own export of a quiz's answers, read into one :class:`Submission` per student.

* **Moodle**: the quiz *Responses* report downloaded as CSV. The exam is one Cloze question
  per variant (:mod:`symbackprop.lms.moodle`), so a student's figures are one ``Response N``
  cell, ``part 1: 0.22; part 2: 0.555; …``, part *k* being the *k*-th figure of the manifest in
  question order. The variant is the one whose figures the ``Right answer N`` cell holds (or
  that a ``[symbackprop <variant>]`` marker in the ``Question N`` text names, or the one drawn
  for the student's ID).
* **Canvas**: a classic quiz's *Student Analysis* CSV: per question a ``<id>: <question text>``
  column and a points column. A question is one figure of one variant (:mod:`symbackprop.lms.qti`):
  a ``[symbackprop <variant> <figure>]`` marker in its text names both; without one the figure
  is read from the text's "Compute \(…\)" and the variant is the one drawn for the student's ID.

Every cell is untrusted text: nothing is evaluated, sizes are bounded as for any submission,
and a row that cannot be read is that student's error (``Submission.error``), never the
file's. A file that is not the format at all is a :class:`SpecError` naming it.

>>> answers = {"net_T": {"value": 0.22, "shown": "0.22", "tolerance": 0.005},
...            "out_T": {"value": 0.5548, "shown": "0.555", "tolerance": 0.0005}}
>>> manifest = {"questions": [{"name": "forward", "answers": ["net_T", "out_T"]}],
...             "variants": [{"id": "v001", "answers": answers}]}
>>> text = ('Last name,First name,ID number,State,Grade/2.00,Response 1,Right answer 1\n'
...         'Doe,Jo,s1,Finished,1.00,"part 1: 0.22; part 2: 0.6","part 1: 0.22; part 2: 0.5548"\n')
>>> detect(text.splitlines()[0].split(","))
'moodle'
>>> [(s.id, s.variant, s.entries) for s in read_moodle_responses(text, "responses.csv", manifest)]
[('s1', 'v001', (('net_T', '0.22', 'Response 1 part 1'), ('out_T', '0.6', 'Response 1 part 2')))]
"""
from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

from ..errors import SpecError
from ..latex import figure_tex
from .submissions import MAX_STUDENTS, MAX_SUBMISSION_BYTES, MAX_TABLE_BYTES, Submission, _failed, _made, \
    safe_id

MARKER = re.compile(r"\[symbackprop ([A-Za-z0-9._@+-]{1,64})(?: ([A-Za-z_][A-Za-z0-9_]{0,79}))?\]")
"""``[symbackprop <variant id>]`` (Moodle) or ``[symbackprop <variant id> <figure>]`` (Canvas) in a question's text."""
RESPONSE = re.compile(r"Response (\d{1,4})")
PART = re.compile(r"\s*[^\W\d_]*\.?\s*(\d{1,4})\s*:\s?(.*)", re.S)          # "part 3: 0.5", "partie 3 : 0,5"
COMPUTE = re.compile(r"Compute \\\((.{1,400}?)\\\), to \d+ significant figures")
COMMA_DECIMAL = re.compile(r"[-+]?\d*,\d+(?:[eE][-+]?\d+)?")
MAX_VALUE = 80                  # as Submission entries keep them; a longer cell is kept unreadable
NO_ANSWER = ("", "-")
MOODLE_IDS = ("ID number", "Username", "Email address")
MOODLE_MARKS = ("State", "Started on", "Completed", "Time taken")
FINISHED = "Finished"
CANVAS_FIXED = ("submitted", "n correct", "score")


# ------------------------------------------------------------------ the file
def _reader(text: str, source: str) -> tuple[list[str], Iterator[list[str]]]:
    """The stripped header of a CSV text and a reader of the rows after it."""
    if len(text) > MAX_TABLE_BYTES:
        raise SpecError(f"is larger than {MAX_TABLE_BYTES} bytes", file=source)
    csv.field_size_limit(1_000_000)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader, [])]
    except csv.Error as exc:
        raise SpecError(f"not CSV ({exc})", file=source) from None
    if not any(header):
        raise SpecError("the table has no header row", file=source)
    return header, reader


def csv_header(text: str, source: str) -> list[str]:
    """The first row of a CSV text, stripped: what :func:`detect` reads (a Canvas analysis repeats
    its points headers, so a reader that wants unique names cannot tell the format).

    >>> csv_header('name,id,"1: Compute\\nx",1.0,"2: Compute y",1.0\\nA,1,0.5,1.0,,\\n', "a.csv")[2:]
    ['1: Compute\\nx', '1.0', '2: Compute y', '1.0']
    """
    return _reader(text, source)[0]


def _csv(text: str, source: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header (stripped) and the non-blank rows ``(row number, cells)`` of a CSV text (the
    header is row 1, as a spreadsheet numbers them; a cell may hold line breaks)."""
    header, reader = _reader(text, source)
    rows = []
    try:
        for number, cells in enumerate(reader, start=2):
            if any(c.strip() for c in cells):
                rows.append((number, cells))
            if len(rows) > MAX_STUDENTS:
                raise SpecError(f"more than {MAX_STUDENTS} rows", file=source)
    except csv.Error as exc:
        raise SpecError(f"not CSV ({exc})", file=source) from None
    return header, rows


def _column(header: list[str], name: str, source: str) -> int:
    """The index of the one column called ``name`` (SpecError if it is missing or repeated)."""
    found = [i for i, h in enumerate(header) if h == name]
    if not found:
        raise SpecError(f"no column '{name[:40]}' (the header is: {', '.join(header)[:200]})", file=source)
    if len(found) > 1:
        raise SpecError(f"the header repeats the column '{name[:40]}'", file=source)
    return found[0]


def _id_index(header: list[str], rows: list[tuple[int, list[str]]], id_column: str | None,
              candidates: Sequence[str], source: str) -> int:
    """The student-ID column: ``id_column``, else the first of ``candidates`` with any ID in it."""
    if id_column is not None:
        return _column(header, id_column, source)
    present = [c for c in candidates if c in header]
    for name in present:
        i = _column(header, name, source)
        if any(i < len(cells) and cells[i].strip() for _, cells in rows):
            return i
    if present:
        return _column(header, present[0], source)
    raise SpecError(f"no student-ID column ({' or '.join(repr(c) for c in candidates)}; name another with "
                    f"--id-column)", file=source)


def _cell(cells: list[str], i: int) -> str:
    return cells[i].strip() if i < len(cells) else ""


def _value(text: str) -> str:
    """A figure as written (a comma for the decimal point, as Moodle accepts it, becomes a point);
    a cell longer than a figure is cut and marked so that it never reads as a number."""
    text = text.strip()
    if len(text) > MAX_VALUE:
        return text[:MAX_VALUE - 1] + "…"
    return text.replace(",", ".") if COMMA_DECIMAL.fullmatch(text) else text


def _number(text: str) -> float | None:
    try:
        x = float(_value(text))
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def _row_problem(header: list[str], cells: list[str]) -> str | None:
    """Why a row cannot be read as a whole (too many cells, too large), or None."""
    if len(cells) > len(header):
        return "the row has more cells than the header"
    if sum(len(c) for c in cells) > MAX_SUBMISSION_BYTES:
        return f"the row is larger than {MAX_SUBMISSION_BYTES} bytes"
    return None


def _student_id(raw: str) -> str:
    return raw[:100]


def _one_per_student(subs: list[tuple[Submission, bool]], advice: str) -> list[Submission]:
    """One submission per student ID, in the file's order: of several rows the one ``finished``
    row, else an error naming the rows (rows without a valid ID are kept as they are)."""
    groups: dict[str, list[tuple[Submission, bool]]] = {}
    order: list[str | Submission] = []
    for sub, finished in subs:
        if safe_id(sub.id) is not None:
            order.append(sub)
            continue
        if sub.id not in groups:
            order.append(sub.id)
        groups.setdefault(sub.id, []).append((sub, finished))
    out = []
    for item in order:
        if isinstance(item, Submission):
            out.append(item)
            continue
        found = groups[item]
        done = [s for s, finished in found if finished] or [s for s, _ in found]
        if len(done) == 1:
            out.append(done[0])
        else:
            where = "; ".join(s.source for s in done)[:200]
            out.append(_failed(item, where, f"{len(done)} attempts in the report ({where}): {advice}"))
    return out


def _names(manifest: Mapping) -> list[str]:
    """Every asked figure in question order: the order of a Cloze question's parts."""
    return [a for q in manifest["questions"] for a in q["answers"]]


# ------------------------------------------------------------------ Moodle
def split_parts(cell: str, count: int) -> dict[int, str] | None:
    """A Cloze response summary (``part 1: 0.22; part 2: 0.555``) as ``{part: text}``; None if
    ``cell`` is not one. Part numbers must rise (a student's own ``;`` stays in their answer)
    and stay within ``count``; an unanswered part is left out.

    >>> split_parts("part 1: 0.22; part 2: ; part 3: 1;5", 3)
    {1: '0.22', 3: '1;5'}
    >>> split_parts("-", 3), split_parts("0.5", 3)
    ({}, None)
    """
    text = cell.strip()
    if text in NO_ANSWER:
        return {}
    parts: dict[int, list[str]] = {}
    last = 0
    for segment in text.split(";"):
        m = PART.fullmatch(segment)
        number = int(m.group(1)) if m else 0
        if m and last < number <= count:
            last = number
            parts[last] = [m.group(2)]
        elif last:
            parts[last].append(segment)
        else:
            return None
    joined = {k: ";".join(v).strip() for k, v in parts.items()}
    return {k: v for k, v in joined.items() if v not in NO_ANSWER}


class _Variants:
    """Which variant a ``Right answer`` cell (or a marker) names; each distinct cell looked up once."""

    def __init__(self, manifest: Mapping):
        self.names = _names(manifest)
        self.ids = {v["id"] for v in manifest["variants"]}
        self.table = [(v["id"], [_expected(v["answers"].get(n)) for n in self.names]) for v in manifest["variants"]]
        self.cache: dict[str, str | None] = {}

    def from_right_answer(self, cell: str) -> str | None:
        if cell not in self.cache:
            self.cache[cell] = self._match(cell)
        return self.cache[cell]

    def _match(self, cell: str) -> str | None:
        parts = split_parts(cell, len(self.names))
        if not parts or len(parts) != len(self.names):
            return None
        values = [_number(parts[k + 1]) for k in range(len(self.names))]
        if any(x is None for x in values):
            return None
        best: tuple[float, str] | None = None
        for vid, expected in self.table:
            worst = 0.0
            for x, e in zip(values, expected):
                if e is None:
                    break
                value, slack, shown = e
                off = abs(x - value)
                if off > slack and x != shown:
                    break
                worst = max(worst, off / slack)
            else:
                if best is None or worst < best[0]:
                    best = (worst, vid)
        return best[1] if best else None

    def from_text(self, text: str) -> str | None:
        m = MARKER.search(text)
        return m.group(1) if m and m.group(1) in self.ids else None


def _expected(answer: Mapping | None) -> tuple[float, float, float | None] | None:
    """A manifest answer as ``(value, tolerance with a hair for rounding, shown figure)``."""
    if answer is None:
        return None
    value = float(answer["value"])
    return value, float(answer["tolerance"]) + 1e-9 * max(1.0, abs(value)), _number(str(answer["shown"]))


def _moodle_slot(header: list[str], rows: list[tuple[int, list[str]]], variants: _Variants, source: str) -> int:
    """The quiz slot whose ``Response N`` holds the exam's Cloze question."""
    slots = sorted({int(m.group(1)) for h in header if (m := RESPONSE.fullmatch(h))})
    if not slots:
        raise SpecError("not a Moodle responses report: no 'Response 1' column (tick 'Response' when "
                        "downloading the report)", file=source)
    if len(slots) == 1:
        return slots[0]
    for right in (True, False):
        score = {}
        for n in slots:
            column = f"Right answer {n}" if right else f"Response {n}"
            if column not in header:
                continue
            i = header.index(column)
            if right:
                score[n] = sum(variants.from_right_answer(_cell(c, i)) is not None for _, c in rows)
            else:
                score[n] = sum(len(split_parts(_cell(c, i), 10 ** 4) or {}) == len(variants.names) for _, c in rows)
        if score and max(score.values()) > 0:
            return max(score, key=lambda n: (score[n], -n))
    raise SpecError(f"cannot tell which of the Response columns {', '.join(map(str, slots))} holds this exam's "
                    f"Cloze question (tick 'Right answer' when downloading the report)", file=source)


def read_moodle_responses(text: str, source: str, manifest: Mapping, *,
                          id_column: str | None = None) -> list[Submission]:
    """A Moodle quiz responses report (CSV): one submission per student, the Cloze parts as figures."""
    header, rows = _csv(text, source)
    variants = _Variants(manifest)
    slot = _moodle_slot(header, rows, variants, source)
    response = _column(header, f"Response {slot}", source)
    right = header.index(f"Right answer {slot}") if f"Right answer {slot}" in header else None
    question = header.index(f"Question {slot}") if f"Question {slot}" in header else None
    state = header.index("State") if "State" in header else None
    sid_at = _id_index(header, rows, id_column, MOODLE_IDS, source)
    subs = []
    for number, cells in rows:
        where = f"{Path(source).name}, row {number}"
        sid = _student_id(_cell(cells, sid_at))
        finished = state is None or _cell(cells, state) == FINISHED
        if not sid and _cell(cells, response) in NO_ANSWER:
            continue                        # not a student's attempt (no ID and no answer)
        subs.append((_moodle_row(sid, where, cells, response, right, question, variants, header,
                                  header[sid_at]), finished))
    return _one_per_student(subs, "download the report with one attempt per student (the graded one) "
                                  "and the last try only")


def _moodle_row(sid: str, where: str, cells: list[str], response: int, right: int | None, question: int | None,
                variants: _Variants, header: list[str], id_name: str) -> Submission:
    if not sid:
        return _failed(sid, where, f"no student ID in the column '{id_name[:40]}'")
    if (why := _row_problem(header, cells)) is not None:
        return _failed(sid, where, why)
    column = header[response]
    parts = split_parts(_cell(cells, response), len(variants.names))
    if parts is None:
        return _failed(sid, where, f"{column} is not a Cloze response ('part 1: …; part 2: …')")
    pairs: list[tuple[str, str, str]] = [(variants.names[k - 1], _value(v), f"{column} part {k}")
                                         for k, v in sorted(parts.items())]
    if (found := _moodle_variant(sid, cells, right, question, variants)) is not None:
        pairs.append(("variant", *found))
    return _made(sid, where, pairs)


def _moodle_variant(sid: str, cells: list[str], right: int | None, question: int | None,
                    variants: _Variants) -> tuple[str, str] | None:
    """``(variant, what named it)``: the Right answer's figures, else a marker in the question
    text, else the variant drawn for the student's ID (a random question may draw any variant,
    so what the student was asked comes first)."""
    if right is not None and (found := variants.from_right_answer(_cell(cells, right))):
        return found, "Right answer"
    if question is not None and (found := variants.from_text(_cell(cells, question))):
        return found, "Question"
    return (sid, "the student's ID") if sid in variants.ids else None


# ------------------------------------------------------------------ Canvas
def _tex_names(manifest: Mapping) -> dict[str, str]:
    """Each figure's TeX as the QTI question text writes it ("Compute \\(…\\)") → its name."""
    loss = str(manifest.get("loss") or "E")
    names = _names(manifest)
    params = {str(p) for v in manifest["variants"][:1] for p in (v.get("values") or {}).get("params") or {}}
    params |= {n[:-4] for n in names if n.endswith("_new")} | {n[len(loss) + 3:] for n in names
                                                               if n.startswith(f"d{loss}_d")}
    return {figure_tex(n, loss, params): n for n in names}


def _canvas_questions(header: list[str], manifest: Mapping) -> list[tuple[int, str | None, str]]:
    """Per question column of the exam: ``(index, variant or None, figure)`` (its points column follows)."""
    ids = {v["id"] for v in manifest["variants"]}
    names = set(_names(manifest))
    by_tex = _tex_names(manifest)
    out = []
    for i, h in enumerate(header[:-1]):
        if not re.match(r"\d{1,20}:", h):
            continue
        m = MARKER.search(h)
        if m and m.group(1) in ids and m.group(2) in names:
            out.append((i, m.group(1), m.group(2)))
        elif m is None and (c := COMPUTE.search(h)) and c.group(1) in by_tex:
            out.append((i, None, by_tex[c.group(1)]))
    return out


def read_canvas_student_analysis(text: str, source: str, manifest: Mapping, *,
                                 id_column: str | None = None) -> list[Submission]:
    """A Canvas classic quiz's student analysis (CSV): one submission per student, a figure per question."""
    header, rows = _csv(text, source)
    missing = [c for c in CANVAS_FIXED if c not in header]
    if missing:
        raise SpecError(f"not a Canvas student analysis: no '{missing[0]}' column", file=source)
    questions = _canvas_questions(header, manifest)
    if not questions:
        raise SpecError("no question of this exam in the student analysis (its question texts name no figure "
                        "of the manifest)", file=source)
    sid_at = _id_index(header, rows, id_column, ("sis_id", "id"), source)
    attempt = header.index("attempt") if "attempt" in header else None
    ids = {v["id"] for v in manifest["variants"]}
    subs = []
    for number, cells in rows:
        where = f"{Path(source).name}, row {number}"
        sid = _student_id(_cell(cells, sid_at))
        if not sid and not any(_cell(cells, i) or _cell(cells, i + 1) for i, _, _ in questions):
            continue
        sub = _canvas_row(sid, where, cells, header, questions, ids, header[sid_at])
        subs.append((sub, attempt is None))
    return _one_per_student(subs, "generate the student analysis without all attempts (the kept attempt only)")


def _canvas_row(sid: str, where: str, cells: list[str], header: list[str],
                questions: list[tuple[int, str | None, str]], ids: set[str], id_name: str) -> Submission:
    if not sid:
        return _failed(sid, where, f"no student ID in the column '{id_name[:40]}'")
    if (why := _row_problem(header, cells)) is not None:
        return _failed(sid, where, why)
    seen = [(i, variant, name) for i, variant, name in questions if _cell(cells, i) or _cell(cells, i + 1)]
    marked = sorted({variant for _, variant, _ in seen if variant is not None})
    if len(marked) > 1:
        return _failed(sid, where, f"answers to the questions of {len(marked)} variants ({', '.join(marked)[:120]})")
    variant = marked[0] if marked else (sid if sid in ids else None)
    pairs: list[tuple[str, str, str]] = []
    named: set[str] = set()
    for i, _, name in seen:
        if name in named:
            return _failed(sid, where, f"two questions in the report ask for {name} (mark each question's "
                                       f"variant in its text)")
        named.add(name)
        value = _value(_cell(cells, i))
        if value not in NO_ANSWER:
            pairs.append((name, value, f"column {header[i].split(':', 1)[0]}"))
    if variant is not None:
        pairs.append(("variant", variant, "question text" if marked else "the student's ID"))
    return _made(sid, where, pairs)


# ------------------------------------------------------------------ which format
def detect(header: list[str]) -> str:
    """``"moodle"``, ``"canvas"`` or ``"table"`` (a class table) from a CSV header.

    >>> detect(["name", "id", "sis_id", "section", "section_id", "submitted", "1: q", "1.0",
    ...         "n correct", "n incorrect", "score"]), detect(["id", "out_T"])
    ('canvas', 'table')
    """
    cells = [h.strip() for h in header]
    if any(RESPONSE.fullmatch(h) for h in cells) and (
            any(h in MOODLE_MARKS for h in cells) or any(h.startswith("Grade/") for h in cells)):
        return "moodle"
    if all(c in cells for c in CANVAS_FIXED) and any(re.match(r"\d{1,20}:", h) for h in cells):
        return "canvas"
    return "table"


Reader = Callable[..., list[Submission]]
CSV_READERS: dict[str, Reader] = {"moodle": read_moodle_responses, "canvas": read_canvas_student_analysis}
"""A platform export by :func:`detect`'s name: ``(text, source, manifest, *, id_column=None) → submissions``."""

"""Reading a class's submissions: every student's figures, as untrusted input, one :class:`Submission` each.

A submission is read, never run: YAML through the checker's safe loader (numbers kept as
written), CSV through :mod:`csv`, text lines by a regular expression. A file that cannot be
read becomes a submission with an ``error`` (one line, the gradebook's reason) — it never
stops the batch. Figures are named as a ``solution:`` file names them (the manifest's
answer names: ``out_T``, ``delta_F``, ``dE_dw_AT``, ``w_TF_new`` …).

Forms, by :data:`READERS` (a folder's files by their suffix; a CSV file by its header):

* a folder of ``<id>.yaml`` / ``.yml`` (``solution:`` as for ``check``, or the names at the
  top level), ``<id>.csv`` (``name,value`` rows) and ``<id>.txt`` (``name = value`` lines);
* a class table (CSV, one row per student: an ``id`` column and one column per figure,
  renamed with ``columns``) — what PrairieLearn's and most other exports become;
* a Moodle responses report and a Canvas student analysis (:mod:`symbackprop.grade.lms_csv`).

>>> s = parse_text("alice", "net_T = 0.22\\n# a comment\\nout_T: 0.555\\n", "alice.txt")
>>> s.id, s.entries
('alice', (('net_T', '0.22', 'line 1'), ('out_T', '0.555', 'line 3')))
>>> parse_text("../bob", "net_T = 1", "x.txt").error
"the student ID '../bob' is not a plain ID (letters, digits and . _ - @ +, at most 64)"
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from ..check.answers import Written, answer_file_from_mapping, answer_yaml
from ..check.budget import MAX_ANSWERS
from ..errors import SpecError
from ..spec.files import flow_nesting

MAX_SUBMISSION_BYTES = 256_000
"""One student's file (the largest shipped example's full sheet is under 10 kB)."""
MAX_TABLE_BYTES = 50_000_000
"""A class table or platform export (2,000 students × 100 figures is about 4 MB)."""
MAX_STUDENTS = 20_000
MAX_NESTING = 20
"""Brackets a submission's YAML may nest (a solution needs none; YAML's scanner slows with each)."""
ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
LINE = re.compile(r"\s*([A-Za-z_]\w{0,79})\s*[=:](.*)", re.ASCII)   # linear: one greedy tail, stripped after
MAX_LINE = 400
MAX_VALUE = 80
SUFFIXES = (".yaml", ".yml", ".csv", ".txt")
META = ("variant", "id")


@dataclass(frozen=True)
class Submission:
    """One student's figures ``(name, value as written, where)``, or an ``error`` saying why there are none."""

    id: str
    source: str
    entries: tuple[tuple[str, str, str], ...] = ()
    variant: str | None = None          # named in the submission (else the variant whose id is the student's)
    error: str | None = None
    digest: str = ""
    claimed: bool = False               # the variant was named by the student's own file, not a platform

    def with_digest(self) -> "Submission":
        """This submission with :attr:`digest`: a hash of everything grading reads from it."""
        body = json.dumps([self.id, self.variant, self.error, list(self.entries), self.claimed], ensure_ascii=False)
        return Submission(self.id, self.source, self.entries, self.variant, self.error,
                          hashlib.sha256(body.encode()).hexdigest(), self.claimed)


def safe_id(text: str) -> str | None:
    """The reason ``text`` may not be a student ID (it names the student's feedback files), or None.

    >>> safe_id("s1234"), safe_id("a.b@uni.edu"), safe_id(".hidden") is not None
    (None, None, True)
    """
    if ID.fullmatch(text) and text not in (".", ".."):
        return None
    shown = "".join(ch if ch.isprintable() else "?" for ch in text[:40])
    return f"the student ID '{shown}' is not a plain ID (letters, digits and . _ - @ +, at most 64)"


def visible(text: str) -> str:
    """``text`` without control and format characters (no bidi override reorders a feedback line).

    >>> visible("0.5\u202e1")
    '0.51'
    """
    return "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch == " ")


def surrogate(sid: str) -> str:
    """The name an unusable student ID is filed under: ``invalid-`` and a hash of it (never a path).

    >>> surrogate("../bob")
    'invalid-548201c683a5'
    """
    return "invalid-" + hashlib.sha256(sid.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _failed(sid: str, source: str, reason: str) -> Submission:
    """A submission that cannot be graded; an ID that could not name a file is filed under :func:`surrogate`."""
    if safe_id(sid) is not None:
        sid = surrogate(sid)
    return Submission(sid, source, error=" ".join(reason.split())[:300]).with_digest()


def _made(sid: str, source: str, pairs: Iterable[tuple[str, Any, str]], *, claimed: bool = False) -> Submission:
    """A submission from ``(name, value, where)``; ``variant``/``id`` entries are metadata
    (``claimed``: a variant named there is the student's claim, not a platform's record)."""
    if (why := safe_id(sid)) is not None:
        return _failed(sid, source, why)
    entries, variant = [], None
    for name, value, where in pairs:
        if name == "variant":
            variant = str(value).strip()[:64]
            continue
        if name == "id":
            continue
        text = str(value).strip()
        if len(text) > MAX_VALUE:   # never cut into a different number: shown as unreadable
            text = f"(a value of {len(text)} characters)"
        elif visible(text) != text:  # nor joined into one: 0.2<NUL>2 is not 0.22
            text = "(a value with control characters)"
        entries.append((visible(str(name))[:80], text, where))
        if len(entries) > MAX_ANSWERS:
            return _failed(sid, source, f"more than {MAX_ANSWERS} figures")
    if not entries:
        return _failed(sid, source, "no figures in the submission")
    return Submission(sid, source, tuple(entries), variant, claimed=claimed and variant is not None).with_digest()


# ------------------------------------------------------------------ one file per student
def parse_yaml(sid: str, text: str, source: str) -> Submission:
    """A ``solution:`` file as ``check`` reads it (or the figures at the top level)."""
    if flow_nesting(text) > MAX_NESTING:
        return _failed(sid, source, f"nested too deeply (more than {MAX_NESTING} brackets)")
    try:
        raw = answer_yaml(text, source)
        if not isinstance(raw, dict):
            raise SpecError("must be a mapping of figure names to numbers")
        meta = {k: raw.pop(k) for k in META if k in raw}
        if not {"solution", "answers"} & set(raw):
            raw = {"solution": raw}
        answers = answer_file_from_mapping(raw, source)
    except SpecError as exc:
        return _failed(sid, source, exc.message if exc.file == source else str(exc))
    if answers.answers:
        return _failed(sid, source, "symbolic 'answers:' are checked with symbackprop check; grading reads "
                       "the figures under 'solution:'")
    pairs = [(n, v, w) for n, v, w in answers.solution or ()]
    for k, v in meta.items():
        if not isinstance(v, (str, Written)) or isinstance(v, bool):
            return _failed(sid, source, f"{k}: must be text")
        pairs.append((k, str(v), k))
    for name, value, where in pairs:
        if not isinstance(value, str):
            return _failed(sid, source, f"{where}: must be a number, got {type(value).__name__}")
    return _made(sid, source, pairs, claimed=True)


def parse_text(sid: str, text: str, source: str) -> Submission:
    """``name = value`` (or ``name: value``) lines; blank lines and ``#`` comments skipped."""
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) > MAX_LINE:
            return _failed(sid, source, f"line {number}: longer than {MAX_LINE} characters")
        body = line.split("#", 1)[0]
        if not body.strip():
            continue
        m = LINE.fullmatch(body)
        if m is None or not m.group(2).strip():
            return _failed(sid, source, f"line {number}: not 'name = value'")
        pairs.append((m.group(1), m.group(2).strip(), f"line {number}"))
    return _made(sid, source, pairs, claimed=True)


def parse_pairs_csv(sid: str, text: str, source: str) -> Submission:
    """``name,value`` rows (a header ``name,value`` is skipped)."""
    pairs = []
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        return _failed(sid, source, f"not CSV ({exc})")
    for number, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if len(cells) != 2:
            return _failed(sid, source, f"row {number}: needs two cells, name and value")
        if number == 1 and cells[0].lower() in ("name", "answer", "figure"):
            continue
        pairs.append((cells[0], cells[1], f"row {number}"))
    return _made(sid, source, pairs, claimed=True)


FILE_READERS: dict[str, Callable[[str, str, str], Submission]] = {
    ".yaml": parse_yaml, ".yml": parse_yaml, ".csv": parse_pairs_csv, ".txt": parse_text}
"""A folder's files by suffix: ``(student id, text, source) → Submission``."""


def read_bounded(path: Path, limit: int) -> str:
    """``path`` as UTF-8 text: a regular file, not a link, at most ``limit`` bytes — else SpecError."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror}") from None
    if stat.S_ISLNK(info.st_mode):
        raise SpecError("is a symbolic link (a student's file must be the file itself)")
    if not stat.S_ISREG(info.st_mode):
        raise SpecError("is not a regular file")
    if info.st_size > limit:
        raise SpecError(f"is larger than {limit} bytes")
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise SpecError(f"is larger than {limit} bytes")
    if b"\0" in data:
        raise SpecError("is a binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(f"is not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise SpecError("is empty")
    return text


def read_folder(folder: Path) -> list[Submission]:
    """Every ``<id>.<suffix>`` in ``folder`` (not recursive); other files are skipped, dotfiles too."""
    found: dict[str, list[Submission]] = {}
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        raise SpecError(f"cannot read the folder: {exc.strerror}", file=str(folder)) from None
    for name in names:
        path = folder / name
        stem, suffix = os.path.splitext(name)
        if name.startswith(".") or suffix.lower() not in FILE_READERS:
            continue
        try:
            sub = FILE_READERS[suffix.lower()](stem, read_bounded(path, MAX_SUBMISSION_BYTES), name)
        except SpecError as exc:
            sub = _failed(stem, name, f"{name} {exc.message}")
        found.setdefault(stem, []).append(sub)
        if len(found) > MAX_STUDENTS:
            raise SpecError(f"more than {MAX_STUDENTS} submissions", file=str(folder))
    out = []
    for sid, subs in found.items():
        if len(subs) > 1:
            out.append(_failed(sid, ", ".join(s.source for s in subs),
                               f"{len(subs)} files for one student ({', '.join(s.source for s in subs)})"))
        else:
            out.append(subs[0])
    return out


# ------------------------------------------------------------------ one table for the class
def table_rows(text: str, source: str) -> list[dict[str, str]]:
    """A CSV with a header as rows of stripped cells (SpecError naming ``source`` if it is not one)."""
    csv.field_size_limit(1_000_000)
    try:
        reader = csv.DictReader(io.StringIO(text))
        header = [h.strip() for h in (reader.fieldnames or [])]
        rows = []
        for row in reader:
            if None in row:
                raise SpecError(f"row {reader.line_num}: more cells than the header has", file=source)
            rows.append({(k or "").strip(): (v or "").strip() for k, v in row.items()})
            if len(rows) > MAX_STUDENTS:
                raise SpecError(f"more than {MAX_STUDENTS} rows", file=source)
    except csv.Error as exc:
        raise SpecError(f"not CSV ({exc})", file=source) from None
    if not header:
        raise SpecError("the table has no header row", file=source)
    if len(set(header)) != len(header):
        raise SpecError("the header repeats a column name", file=source)
    return rows


def read_table(text: str, source: str, answers: Sequence[str], *, id_column: str = "id",
               columns: Mapping[str, str] | None = None) -> list[Submission]:
    """A class table: one row per student, ``id_column`` and a column per figure (``columns``
    maps an answer name to its header, e.g. ``{"out_T": "Q3"}``; other columns are ignored)."""
    rows = table_rows(text, source)
    header = list(rows[0]) if rows else []
    if rows and id_column not in header:
        raise SpecError(f"no '{id_column}' column (the header is: {', '.join(header)[:200]})", file=source)
    mapping = {name: (columns or {}).get(name, name) for name in answers}
    for name, col in (columns or {}).items():
        if name not in answers:
            raise SpecError(f"'{name[:40]}' is not an answer of the exam", key=f"--column {name[:40]}")
        if rows and col not in header:
            raise SpecError(f"no column '{col[:40]}' for {name}", file=source)
    out = []
    for number, row in enumerate(rows, start=2):
        where = f"{Path(source).name}, row {number}"
        pairs = [(name, row[col], f"column {col}") for name, col in mapping.items() if row.get(col, "")]
        if row.get("variant"):
            pairs.append(("variant", row["variant"], "column variant"))
        out.append(_made(row[id_column], where, pairs))
    return out


def unique(subs: Iterable[Submission]) -> list[Submission]:
    """One submission per student ID: an ID handed in twice (two files, two rows, or two spellings
    that differ only in case, which share a file name on some file systems) becomes one error.

    >>> a, b = parse_text("s1", "out_T = 1", "a.txt"), parse_text("s1", "out_T = 2", "b.txt")
    >>> [(s.id, s.error) for s in unique([a, b])]
    [('s1', 'handed in 2 times (a.txt; b.txt): which one to grade is for the instructor to say')]
    """
    by_id: dict[str, list[Submission]] = {}
    for s in subs:
        by_id.setdefault(s.id.casefold(), []).append(s)
    out = []
    for _, group in sorted(by_id.items()):
        sid = min(s.id for s in group)
        if len(group) == 1:
            out.append(group[0])
        else:
            sources = "; ".join(s.source for s in group)[:200]
            out.append(_failed(sid, sources, f"handed in {len(group)} times ({sources}): which one to grade "
                                             "is for the instructor to say"))
    return out

"""A class roster: a CSV file with an ``id`` column (other columns are ignored), one student a row.

IDs name files later (feedback, per-student sheets), so they are short and plain: letters,
digits, ``.``, ``_``, ``-``, starting with a letter or digit, at most 64 characters.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "class.csv"
>>> _ = p.write_text("id,name\\ns001,Ada\\ns002,Alan\\n")
>>> read_roster(p)
['s001', 's002']
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from ..errors import SpecError
from ..spec import read_text

STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_ROSTER_BYTES = 5_000_000


def read_roster(path: str | Path) -> list[str]:
    """The student IDs of a roster file, in its order (:class:`SpecError` naming file, line and key otherwise)."""
    text = read_text(path, "roster", MAX_ROSTER_BYTES)
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise SpecError(f"is not a CSV file ({exc})", key="roster").located(str(path)) from None
    if not rows or "id" not in [c.strip().lower() for c in rows[0]]:
        raise SpecError("needs a header row with an 'id' column", key="roster").located(str(path))
    column = [c.strip().lower() for c in rows[0]].index("id")
    ids: list[str] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        sid = row[column].strip() if column < len(row) else ""
        if not STUDENT_ID.fullmatch(sid):
            raise SpecError(f"line {line}: the id {sid[:40]!r} is not a plain ID (letters, digits, '.', '_', '-'; "
                            "at most 64)", key="roster").located(str(path))
        if sid in seen:
            raise SpecError(f"line {line}: the id {sid!r} repeats line {seen[sid]}", key="roster").located(str(path))
        seen[sid] = line
        ids.append(sid)
    if not ids:
        raise SpecError("lists no student", key="roster").located(str(path))
    return ids

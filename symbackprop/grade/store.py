"""The output folder of ``symbackprop grade``: one result file per student, written as it finishes.

``OUTDIR/results/<id>.json`` holds a student's record and the *key* it was graded under: a
hash of the manifest, the marking scheme, the submission's content and this module's
:data:`FORMAT_VERSION`. A rerun reuses every result whose key is unchanged (unless
``--force``), so an interrupted run resumes where it stopped and a class re-graded after two
late submissions grades only those two. Every file is written atomically
(:func:`symbackprop.files.write_atomically`); a folder that symbackprop did not make is
refused, so ``-o ~/Documents`` cannot scatter files among a user's own.

>>> import tempfile, pathlib
>>> store = Store(pathlib.Path(tempfile.mkdtemp()) / "graded")
>>> store.open(force=False)
>>> store.save({"id": "s1", "status": "graded"}, key="k1")
>>> store.load("s1", "k1")["status"], store.load("s1", "other")
('graded', None)
"""
from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from ..errors import SpecError
from ..files import JSON_MARKER, OutputError, write_atomically

FORMAT_VERSION = 1
MARKER = ".symbackprop-grade.json"
MAX_RESULT_BYTES = 2_000_000


@lru_cache(maxsize=None)
def release() -> str:
    """symbackprop's version (read once: the package metadata is slow to read)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("symbackprop")
    except PackageNotFoundError:  # pragma: no cover - run from a checkout without installing
        return "unknown"


def result_key(manifest_digest: str, scheme: Mapping, submission_digest: str) -> str:
    """What a result depends on, hashed: it is reused only when all of it is unchanged (the
    symbackprop version too: a release that grades differently grades again)."""
    body = json.dumps([FORMAT_VERSION, release(), manifest_digest, scheme, submission_digest], sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


class Store:
    """The results folder: ``open`` it, then ``load``/``save`` one student's record at a time."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.results = self.root / "results"
        self._made: set[Path] = set()

    def open(self, *, force: bool) -> None:
        """Create the folder (or accept one symbackprop made; another non-empty folder only with ``force``)."""
        marker = self.root / MARKER
        if self.root.exists() and not self.root.is_dir():
            raise SpecError("is not a folder", file=str(self.root))
        if self.root.is_dir() and any(self.root.iterdir()) and not marker.is_file() and not force:
            raise SpecError("the folder exists and symbackprop grade did not make it; give an empty or new "
                            "folder (or --force to write into it)", file=str(self.root))
        try:
            self.results.mkdir(parents=True, exist_ok=True)
            write_atomically(marker, json.dumps(JSON_MARKER | {"made_by": "symbackprop grade",
                                                               "format_version": FORMAT_VERSION}) + "\n", force=True)
        except (OSError, OutputError) as exc:
            raise SpecError(f"cannot write: {getattr(exc, 'strerror', None) or exc}", file=str(self.root)) from None

    def path(self, sid: str) -> Path:
        return self._inside(f"results/{sid}.json")

    def _inside(self, relative: str) -> Path:
        """``root/relative``, refused (OutputError) unless it stays inside the folder."""
        path = self.root / relative
        if Path(relative).is_absolute() or ".." in Path(relative).parts or \
                not os.path.abspath(path).startswith(os.path.abspath(self.root) + os.sep):
            raise OutputError(f"refusing to write {relative[:80]!r}: outside {self.root}")
        return path

    def load(self, sid: str, key: str) -> dict | None:
        """The stored record of ``sid`` if it was graded under ``key`` (None otherwise, or if unreadable)."""
        path = self.path(sid)
        try:
            if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_RESULT_BYTES:
                return None
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(stored, dict) or stored.get("key") != key or not isinstance(stored.get("record"), dict):
            return None
        record = stored["record"]
        return record if record.get("id") == sid else None

    def save(self, record: Mapping, *, key: str) -> None:
        """Write one record (atomically; a result file that is a symbolic link is refused)."""
        text = json.dumps(JSON_MARKER | {"key": key, "record": record}, separators=(",", ":"),
                          ensure_ascii=False) + "\n"     # one line: the C encoder (indent is 10× slower)
        write_atomically(self.path(record["id"]), text)

    def write(self, relative: str, data: str | bytes) -> None:
        """Write one output file under the folder (its parent folders made; links refused; a file
        symbackprop did not write is replaced only when it is a CSV, which carries no mark)."""
        path = self._inside(relative)
        if path.parent not in self._made:
            try:
                os.makedirs(path.parent, exist_ok=True)
            except OSError as exc:
                raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
            self._made.add(path.parent)
        write_atomically(path, data, force=path.suffix == ".csv")

    def has(self, relative: str) -> bool:
        """Whether ``relative`` is a regular file in the folder (not a link)."""
        path = self._inside(relative)
        return path.is_file() and not path.is_symlink()

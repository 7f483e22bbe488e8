"""What a reader of the documents chooses: the edition, the running header, the precision and what to list.

>>> o = RenderOptions(sig=3, course="ML 101", sheet="Sheet 4")
>>> o.precision.describe(), o.edition
('rounded to 3 significant figures', 'student')
>>> RenderOptions(digits=4).precision.describe()
'rounded to 4 decimal places'
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .texmath import Precision

EDITIONS = {
    "student": "what a student is handed: title, subtitle and the working, nothing else",
    "instructor": "the student's edition plus the spec's description and notes, and the checks made",
}


@dataclass(frozen=True)
class RenderOptions:
    """How the documents are written. ``digits`` are fixed decimals, ``sig`` significant figures
    (``sig`` wins when both are given); ``course``/``sheet`` head every page (the spec's keys of the
    same names when empty); ``verbose`` adds the consistency checks to a student's edition too;
    ``wrt`` lists only these parameters' paths in the paths document."""

    digits: int = 6
    sig: int | None = None
    edition: str = "student"
    course: str = ""
    sheet: str = ""
    verbose: bool = False
    wrt: tuple[str, ...] = field(default_factory=tuple)

    @property
    def precision(self) -> Precision:
        return Precision(decimals=None if self.sig is not None else self.digits, sig=self.sig)

    @property
    def instructor(self) -> bool:
        return self.edition == "instructor"

    @property
    def show_checks(self) -> bool:
        """Whether sentences about the tool's own checks belong in the document."""
        return self.verbose or self.instructor

"""How much one check may read and how long it may take: limits per answer file, time budgets.

Every answer is read in time linear in its length, and an answer file is refused before it
is checked when it holds more than :data:`MAX_ANSWERS` answers. On top of that the checker
enforces two time budgets itself — no signal, no thread — with *deadlines* that the long
loops of a check look at (:func:`check`): :data:`ANSWER_SECONDS` per answer and
:data:`RUN_SECONDS` per check run. An answer whose budget runs out is *undecided*, with a
note saying so; it is never reported correct, and the check goes on with the next answer
(or, when the run's budget is spent, reports each remaining answer as not checked).

>>> now = [0.0]                                   # a clock the example sets by hand
>>> run = Deadline(120, "check", clock=lambda: now[0])
>>> with answer_budget(run, seconds=2):
...     check()                                   # at 0 s: nothing happens
...     now[0] = 2.5
...     check()
Traceback (most recent call last):
...
symbackprop.check.budget.OutOfTime: could not decide within 2 s (the time budget per answer)
"""
from __future__ import annotations

import contextlib
import time
from contextvars import ContextVar
from typing import Callable, Iterator

from ..errors import SpecError

MAX_ANSWERS = 500
"""Answers one answer file may hold (a sheet for the largest example has about 100)."""

ANSWER_SECONDS = 10.0
"""Time budget of one answer: comparing it with the correct expression and diagnosing it."""

RUN_SECONDS = 120.0
"""Time budget of one check run (every answer it checks)."""


class OutOfTime(BaseException):
    """A time budget ran out; ``str()`` is the one line the report shows.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` on the way (in
    SymPy, say) mistakes it for a failure of the computation it stops.
    """


class Deadline:
    """A point in time after which the work it guards stops; ``what`` names the budget in messages."""

    def __init__(self, seconds: float, what: str, *, clock: Callable[[], float] = time.monotonic):
        self.seconds, self.what, self.clock = seconds, what, clock
        self.at = clock() + seconds

    def passed(self) -> bool:
        return self.clock() >= self.at

    def message(self) -> str:
        if self.what == "answer":
            return f"could not decide within {self.seconds:g} s (the time budget per answer)"
        return f"not checked: the {self.what}'s time budget of {self.seconds:g} s was used up"


def run_deadline() -> Deadline:
    """The deadline of a check run that starts now (:data:`RUN_SECONDS`)."""
    return Deadline(RUN_SECONDS, "check")


_ACTIVE: ContextVar[tuple[Deadline, ...]] = ContextVar("symbackprop_deadlines", default=())


@contextlib.contextmanager
def answer_budget(run: Deadline, seconds: float | None = None) -> Iterator[None]:
    """Within the block, :func:`check` stops work past the run's deadline or ``seconds`` from now
    (default :data:`ANSWER_SECONDS`); it raises :class:`OutOfTime` at once if the run's budget is spent."""
    if run.passed():
        raise OutOfTime(run.message())
    answer = Deadline(ANSWER_SECONDS if seconds is None else seconds, "answer", clock=run.clock)
    token = _ACTIVE.set(_ACTIVE.get() + (run, answer))
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def check() -> None:
    """Raise :class:`OutOfTime` if a deadline of the enclosing :func:`answer_budget` has passed
    (the run's first, so its message wins); outside one, do nothing. Cheap: call it in loops."""
    for deadline in _ACTIVE.get():
        if deadline.passed():
            raise OutOfTime(deadline.message())


def limit_answers(count: int, key: str = "answers") -> None:
    """Refuse an answer file with more than :data:`MAX_ANSWERS` answers (before any is read)."""
    if count > MAX_ANSWERS:
        raise SpecError(f"too many answers ({count}; an answer file may hold at most {MAX_ANSWERS})", key=key)

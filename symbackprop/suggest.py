"""“Did you mean …?” for a mistyped key or name: the closest allowed spellings (difflib).

>>> did_you_mean("W", ["w", "b"])
" (did you mean 'w'?)"
>>> did_you_mean("lerning_rate", ["learning_rate", "loss"])
" (did you mean 'learning_rate'?)"
>>> did_you_mean("zzz", ["w", "b"])
''
"""
from __future__ import annotations

import difflib
from typing import Iterable

MAX_CHOICES = 5_000   # beyond this many names the search is skipped (it is linear per name)


def close_matches(word: str, choices: Iterable[str], n: int = 2) -> list[str]:
    """Up to ``n`` allowed spellings close to ``word``, case-insensitively (``W`` finds ``w``)."""
    by_folded: dict[str, str] = {}
    for c in choices:
        by_folded.setdefault(str(c).casefold(), str(c))
        if len(by_folded) > MAX_CHOICES:
            return []
    folded = str(word).casefold()
    if folded in by_folded and by_folded[folded] != word:
        return [by_folded[folded]]
    return [by_folded[m] for m in difflib.get_close_matches(folded, list(by_folded), n=n, cutoff=0.7)]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest allowed spellings, or ``""`` when none is close."""
    matches = close_matches(word, choices)
    if not matches:
        return ""
    return " (did you mean " + " or ".join(repr(m) for m in matches) + "?)"

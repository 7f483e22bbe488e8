"""One field at a time: names, exact numbers, mappings, lists and strings, each refused with its key."""
from __future__ import annotations

import math
import unicodedata
from functools import lru_cache
from typing import Any

import sympy as sp

from ..errors import SpecError
from ..suggest import did_you_mean
from .model import MAX_MAGNITUDE, MAX_NAME_LENGTH, NAME_PATTERN


def quote_user_text(key: Any) -> str:
    """A user's key or name as an error message quotes it: one line, at most 40 characters.

    >>> quote_user_text("w_AT"), quote_user_text("a\\nb"), quote_user_text("x" * 50)
    ("'w_AT'", "'a\\\\nb'", "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…'")
    """
    text = str(key)
    return repr(text[:40]) if len(text) <= 40 else repr(text[:40])[:-1] + "…'"


def key_text(key: Any) -> str:
    """A user's mapping key as part of a dotted key: as written when short and plain, else quoted."""
    text = str(key)
    return text if len(text) <= 40 and text.isprintable() and " " not in text else quote_user_text(key)


def check_name(value: Any, key: str) -> str:
    """A valid user name (identifier, ≤ 32 chars, no leading ``_``, no ``__``), NFKC-normalised."""
    if not isinstance(value, str):
        raise SpecError(f"a name must be a string, got {describe(value)}", key=key)
    name = unicodedata.normalize("NFKC", value)
    if not NAME_PATTERN.match(name) or "__" in name or len(name) > MAX_NAME_LENGTH:
        raise SpecError(
            f"{quote_user_text(value)} is not a valid name (letters, digits and single '_', starting "
            f"with a letter, at most {MAX_NAME_LENGTH} characters)", key=key)
    return name


def number(value: Any, key: str) -> sp.Rational:
    """An exact number: ints stay ints, floats are read by their decimal text (0.35 → 7/20)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        hint = " (write it without quotes)" if isinstance(value, str) and _looks_numeric(value) else ""
        raise SpecError(f"must be a number, got {describe(value)}{hint}", key=key)
    if isinstance(value, float) and not math.isfinite(value):
        raise SpecError(f"must be a finite number, got {value}", key=key)
    if abs(value) > MAX_MAGNITUDE:
        raise SpecError(f"must be at most {MAX_MAGNITUDE:g} in size", key=key)
    return _exact(type(value), value)


@lru_cache(maxsize=1 << 14)
def _exact(kind: type, value: int | float) -> sp.Rational:
    """The exact number of a checked value (cached: weight matrices repeat their decimals)."""
    return sp.Rational(repr(value)) if kind is float else sp.Integer(value)


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def describe(value: Any) -> str:
    if isinstance(value, str):
        return f"the string {quote_user_text(value)}"
    if value is None:
        return "nothing"
    kind = type(value).__name__
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"


def as_mapping(value: Any, key: str) -> dict:
    if not isinstance(value, dict):
        raise SpecError(f"must be a mapping, got {describe(value)}", key=key)
    return value


def as_list(value: Any, key: str) -> list:
    if not isinstance(value, list):
        raise SpecError(f"must be a list, got {describe(value)}", key=key)
    return value


def as_string(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise SpecError(f"must be a string, got {describe(value)}", key=key)
    return value


def as_names(value: Any, key: str) -> tuple[str, ...]:
    names = tuple(check_name(v, f"{key}[{i}]") for i, v in enumerate(as_list(value, key)))
    seen: set[str] = set()
    for i, n in enumerate(names):
        if n in seen:
            raise SpecError(f"'{n}' is listed twice", key=f"{key}[{i}]")
        seen.add(n)
    return names


def refuse_unknown_keys(mapping: dict, allowed: set[str], key: str | None) -> None:
    for k in mapping:
        if k not in allowed:
            prefix = f"{key}." if key else ""
            raise SpecError(f"unknown key{did_you_mean(str(k), allowed)} (allowed: {', '.join(sorted(allowed))})",
                            key=f"{prefix}{key_text(k)}")

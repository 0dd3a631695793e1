"""What every piece of text and every number a user sends must be: text without NUL
characters or lone surrogates (neither is text: PostgreSQL refuses NUL, and a lone
surrogate cannot be encoded as UTF-8 to answer with), numbers that are finite.

Pure functions over the values of a request (path and query parameters, form fields,
a decoded JSON body); the API's access rule asks them before a route runs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

# A NUL or a UTF-16 surrogate code point, which in a Python str is always unpaired.
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")
EXPECTED_TEXT = "expected text without NUL characters or lone surrogates"


def text_problem(text: str) -> str | None:
    """Why ``text`` is not acceptable text, or ``None`` when it is."""
    found = _NOT_TEXT.search(text)
    if found is None:
        return None
    return "a NUL character" if found.group() == "\x00" else "a lone surrogate"


def value_problem(value: Any, where: str) -> str | None:
    """The first problem in a decoded JSON value (keys included), worded as
    ``expected …; found … in <where>``, or ``None`` when every text is text and every
    number is finite."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem is not None:
                return f"{EXPECTED_TEXT}; found {problem} in {at}"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return f"expected a finite number; found {item} in {at}"
        elif isinstance(item, dict):
            for key, inner in item.items():
                stack.append((key, f"{at}, a key"))
                stack.append((inner, f"{at}.{key}" if text_problem(str(key)) is None else at))
        elif isinstance(item, list):
            stack.extend((inner, f"{at}[{i}]") for i, inner in enumerate(item))
    return None


def texts_problem(pairs: Iterable[tuple[str, str]], where: str) -> str | None:
    """The first problem among named texts (path, query or form fields)."""
    for name, text in pairs:
        problem = text_problem(name) or text_problem(text)
        if problem is not None:
            shown = name if text_problem(name) is None else "a field"
            return f"{EXPECTED_TEXT}; found {problem} in {where} {shown}"
    return None


def possessive(name: str) -> str:
    """``name`` with the English possessive: an apostrophe alone after a final s
    ("Business applications'", the plural style of the Chicago Manual's 7.17 used for
    unit names, which are mostly plural nouns), else 's ("Assembly's")."""
    return f"{name}'" if name.endswith(("s", "S")) else f"{name}'s"

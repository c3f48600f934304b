"""A static look for regular expressions that can backtrack catastrophically.

Used to warn about a credential ``pattern`` in a user-defined provider
file. Matching itself is time-limited whatever this says
(:func:`navi_integrations.models.check_credential_values`); this check is
for the author, and for other tools that may run the pattern without a limit.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["backtracking_risk"]

# The parse tree comes from the standard library's own regular-expression
# parser (private modules, stable in practice): if it ever moves, the check
# is skipped and matching stays time-limited anyway.

try:
    _re_parser: Any = importlib.import_module("re._parser")
    _C: Any = importlib.import_module("re._constants")
except ImportError:  # pragma: no cover - a future Python
    _re_parser = _C = None


def backtracking_risk(pattern: str) -> bool:
    """Whether ``pattern`` can take exponential time in a backtracking engine.

    A static look at the parsed pattern: a repetition whose body holds a part
    that can match in several ways (a variable repetition, or alternatives)
    with no mandatory character in the body that the part cannot match,
    i.e. nothing that tells one iteration from the next: ``(a+)+``,
    ``(\\w+\\s?)+``, ``(a|aa)*``, ``(.*,){9}``. ``[a-z]+(-[a-z]+)*`` passes:
    each iteration starts with a ``-`` the inner part cannot match. It is a
    warning, not a proof; matching itself is time-limited
    (:func:`~navi_integrations.models.check_credential_values`).
    """
    if _re_parser is None:
        return False
    try:
        return _risky(list(_re_parser.parse(pattern)))
    except Exception:  # an unparsable pattern is refused elsewhere; never break loading
        return False


def _risky(items: list[Any]) -> bool:
    for op, av in items:
        if op in (_C.MAX_REPEAT, _C.MIN_REPEAT):
            _, high, body = av
            if high > 1 and _iterations_ambiguous(list(body)):
                return True
            if _risky(list(body)):
                return True
        elif op is _C.POSSESSIVE_REPEAT:
            if _risky(list(av[2])):
                return True
        elif any(_risky(sub) for sub in _children(op, av)):
            return True
    return False


def _children(op: Any, av: Any) -> list[list[Any]]:
    """Sub-sequences of a node that is not a repetition."""
    if op is _C.SUBPATTERN:
        return [list(av[3])]
    if op is _C.BRANCH:
        return [list(alt) for alt in av[1]]
    if op is _C.ATOMIC_GROUP:
        return [list(av)]
    if op in (_C.ASSERT, _C.ASSERT_NOT):
        return [list(av[1])]
    if op is _C.GROUPREF_EXISTS:
        return [list(part) for part in av[1:] if part is not None]
    return []


def _iterations_ambiguous(body: list[Any]) -> bool:
    """Whether one iteration of ``body`` can split the same text in several ways."""
    while len(body) == 1 and body[0][0] is _C.SUBPATTERN:
        body = list(body[0][1][3])
    separators = [chars for chars in (_single_chars(op, av) for op, av in body) if chars]
    for part in _ambiguous_parts(body):
        consumed = _consumed(part)
        if consumed is None or not any(not (s & consumed) for s in separators):
            return True
    return False


def _ambiguous_parts(items: list[Any]) -> list[list[Any]]:
    """Variable repetitions and branching alternatives anywhere in ``items``."""
    found: list[list[Any]] = []
    for op, av in items:
        if op in (_C.MAX_REPEAT, _C.MIN_REPEAT):
            low, high, body = av
            if high > 1 and low < high:
                found.append([(op, av)])
            found.extend(_ambiguous_parts(list(body)))
        elif op is _C.BRANCH:
            if _alternatives_overlap([list(alt) for alt in av[1]]):
                found.append([(op, av)])
            for alt in av[1]:
                found.extend(_ambiguous_parts(list(alt)))
        elif op is not _C.POSSESSIVE_REPEAT and op is not _C.ATOMIC_GROUP:
            for sub in _children(op, av):
                found.extend(_ambiguous_parts(sub))
    return found


def _alternatives_overlap(alternatives: list[list[Any]]) -> bool:
    """Whether two alternatives can start with the same character (or one can be empty)."""
    seen: set[int] = set()
    for alt in alternatives:
        first = _first_chars(alt)
        if first is None or seen & first:
            return True
        seen |= first
    return False


def _first_chars(items: list[Any]) -> frozenset[int] | None:
    if not items:
        return None
    op, av = items[0]
    if op in (_C.MAX_REPEAT, _C.MIN_REPEAT, _C.POSSESSIVE_REPEAT) and av[0] >= 1:
        return _first_chars(list(av[2]))
    if op is _C.SUBPATTERN:
        return _first_chars(list(av[3]))
    return _single_chars(op, av)


_ALPHABET = range(256)  # Latin-1 approximates what matters for credential patterns


def _single_chars(op: Any, av: Any) -> frozenset[int] | None:
    """The characters a one-character item matches (``None`` for anything else)."""
    if op is _C.LITERAL:
        return frozenset({av})
    if op is _C.NOT_LITERAL:
        return frozenset(c for c in _ALPHABET if c != av)
    if op is _C.ANY:
        return frozenset(c for c in _ALPHABET if c != 10)
    if op is _C.IN:
        negate = any(o is _C.NEGATE for o, _ in av)
        chars = set()
        for o, a in av:
            if o is _C.LITERAL:
                chars.add(a)
            elif o is _C.RANGE:
                chars.update(range(a[0], a[1] + 1))
            elif o is _C.CATEGORY:
                chars.update(c for c in _ALPHABET if _categories()[a](chr(c)))
        return frozenset(c for c in _ALPHABET if c not in chars) if negate else frozenset(chars)
    return None


@functools.cache
def _categories() -> dict[Any, Callable[[str], bool]]:
    return {
        _C.CATEGORY_DIGIT: str.isdigit,
        _C.CATEGORY_NOT_DIGIT: lambda ch: not ch.isdigit(),
        _C.CATEGORY_SPACE: str.isspace,
        _C.CATEGORY_NOT_SPACE: lambda ch: not ch.isspace(),
        _C.CATEGORY_WORD: lambda ch: ch.isalnum() or ch == "_",
        _C.CATEGORY_NOT_WORD: lambda ch: not (ch.isalnum() or ch == "_"),
    }


def _consumed(items: list[Any]) -> frozenset[int] | None:
    """Every character ``items`` may consume (``None`` when it cannot be told)."""
    chars: set[int] = set()
    for op, av in items:
        single = _single_chars(op, av)
        if single is not None:
            chars |= single
            continue
        if op in (_C.MAX_REPEAT, _C.MIN_REPEAT, _C.POSSESSIVE_REPEAT):
            subs = [list(av[2])]
        elif op in (_C.AT, _C.ASSERT, _C.ASSERT_NOT):
            continue  # consumes nothing
        elif op in (_C.SUBPATTERN, _C.BRANCH, _C.ATOMIC_GROUP, _C.GROUPREF_EXISTS):
            subs = _children(op, av)
        else:  # a backreference or something unusual
            return None
        for sub in subs:
            found = _consumed(sub)
            if found is None:
                return None
            chars |= found
    return frozenset(chars)

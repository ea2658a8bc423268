"""JSON for API server traffic, at any depth the API server accepts.

The json module's C code recurses once per nesting level and gives up near Python's
recursion limit (about 1000 levels), while an API server stores objects nested thousands
of levels deep. One such object must not break the cache of its whole type (a list that
raises, a watch that fails and resumes forever), so these fall back to a parser and a
writer that keep their own stack.
"""

from __future__ import annotations

import json
import json.decoder
import re
from collections.abc import Callable
from typing import Any

# The json module's own string scanner (escapes, surrogates, control characters).
scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_LITERALS = {"true": True, "false": False, "null": None}


def loads(data: bytes | str) -> Any:
    try:
        return json.loads(data)
    except RecursionError:
        return _loads_iteratively(data.decode("utf-8") if isinstance(data, bytes) else data)


def dumps(value: Any) -> str:
    try:
        return json.dumps(value)
    except RecursionError:
        return _dumps_iteratively(value)


def _error(text: str, pos: int, what: str) -> ValueError:
    return ValueError(f"{what} at character {pos}: {text[pos : pos + 20]!r}")


def _key(text: str, pos: int) -> tuple[str, int]:
    """A member name and its colon; returns the position after the colon and whitespace."""
    if text.startswith('"', pos):
        key, pos = scanstring(text, pos + 1)
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if text.startswith(":", pos):
            return key, _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    raise _error(text, pos, "expected a member name and ':'")


def _loads_iteratively(text: str) -> Any:
    stack: list[tuple[dict[str, Any] | list[Any], str]] = []  # open containers, pending keys
    pos = _WS.match(text, 0).end()  # type: ignore[union-attr]
    while True:
        # A value starts at pos.
        char = text[pos : pos + 1]
        value: Any
        if char in ("{", "["):
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
            if text.startswith("}" if char == "{" else "]", pos):
                value, pos = ({} if char == "{" else []), pos + 1
            elif char == "{":
                key, pos = _key(text, pos)
                stack.append(({}, key))
                continue
            else:
                stack.append(([], ""))
                continue
        elif char == '"':
            value, pos = scanstring(text, pos + 1)
        elif (number := _NUMBER.match(text, pos)) is not None:
            literal = number.group()
            value = float(literal) if number.group(1) or number.group(2) else int(literal)
            pos = number.end()
        else:
            word = next((w for w in _LITERALS if text.startswith(w, pos)), None)
            if word is None:
                raise _error(text, pos, "expected a value")
            value, pos = _LITERALS[word], pos + len(word)
        # Put it into its container; close the containers that end here.
        while True:
            if not stack:
                if _WS.match(text, pos).end() != len(text):  # type: ignore[union-attr]
                    raise _error(text, pos, "extra data")
                return value
            container, key = stack[-1]
            if isinstance(container, dict):
                container[key] = value
            else:
                container.append(value)
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            char = text[pos : pos + 1]
            if char == ",":
                pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
                if isinstance(container, dict):
                    key, pos = _key(text, pos)
                    stack[-1] = (container, key)
                break
            if char == ("}" if isinstance(container, dict) else "]"):
                stack.pop()
                value, pos = container, pos + 1
                continue
            raise _error(text, pos, "expected ',' or the end of the container")


class _Text(str):
    """Already encoded: written as is."""


def _dumps_iteratively(value: Any) -> str:
    out: list[str] = []
    todo: list[Any] = [value]  # values to encode and _Text to write, last first
    while todo:
        item = todo.pop()
        if isinstance(item, _Text):
            out.append(item)
        elif isinstance(item, dict):
            parts: list[Any] = [_Text("{")]
            for i, (key, child) in enumerate(item.items()):
                name = key if isinstance(key, str) else json.dumps(key).strip('"')
                parts += [_Text((", " if i else "") + json.dumps(name) + ": "), child]
            parts.append(_Text("}"))
            todo.extend(reversed(parts))
        elif isinstance(item, list | tuple):
            parts = [_Text("[")]
            for i, child in enumerate(item):
                parts += [_Text(", "), child] if i else [child]
            parts.append(_Text("]"))
            todo.extend(reversed(parts))
        else:
            out.append(json.dumps(item))
    return "".join(out)

"""Reading and writing YAML/JSON manifest streams.

Errors name the source and the 1-based document index (and the line when the parser
knows it) so that a user with a 40-document Helm render finds the bad one at once.
The C loader and dumper of PyYAML are used when the wheel ships them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import yaml

from kubectl_kubefed.api.errors import InputError

try:
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
    _Dumper: type[yaml.SafeDumper] = yaml.CSafeDumper  # type: ignore[assignment]
    C_YAML = True
except AttributeError:  # pragma: no cover - wheels without libyaml
    _Loader = yaml.SafeLoader
    _Dumper = yaml.SafeDumper
    C_YAML = False
Loader = _Loader


@dataclass(frozen=True)
class Document:
    """One object of a stream, with where it came from."""

    obj: dict[str, Any]
    source: str
    index: int  # 1-based position of the document in its source stream

    def where(self) -> str:
        return f"{self.source}: document {self.index}"


def read_text(path: str, stdin: TextIO | None = None) -> tuple[str, str]:
    """Return (source name, text) for a path, ``-`` meaning standard input."""
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin
        return "<stdin>", stream.read()
    try:
        return path, Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except OSError as err:
        raise InputError(f"{path}: {err.strerror}") from None


def _raw_documents(text: str, source: str) -> Iterator[tuple[int, Any]]:
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        # A JSON document: the json module is much faster than YAML on large inputs.
        try:
            yield 1, json.loads(text)
            return
        except json.JSONDecodeError:
            pass  # maybe YAML flow style; let the YAML parser decide and report
    index = 0
    try:
        for index, doc in enumerate(yaml.load_all(text, Loader=_Loader), start=1):
            yield index, doc
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise InputError(f"{source}: document {index + 1}{line}: invalid YAML: {problem}") from None


def parse_documents(text: str, source: str) -> list[Document]:
    """Parse a YAML/JSON stream; ``kind: List`` is flattened, empty documents skipped."""
    docs: list[Document] = []
    for index, raw in _raw_documents(text, source):
        if raw is None:
            continue
        items: Iterable[Any]
        if isinstance(raw, list):
            items = raw
        elif isinstance(raw, dict) and raw.get("kind") == "List" and "items" in raw:
            items = raw.get("items") or []
            if not isinstance(items, list):
                raise InputError(f"{source}: document {index}: List items must be a list")
        else:
            items = [raw]
        for item in items:
            if not isinstance(item, dict):
                raise InputError(f"{source}: document {index}: expected an object, got {_type_name(item)}")
            docs.append(Document(item, source, index))
    return docs


def load_files(paths: Iterable[str], stdin: TextIO | None = None) -> list[Document]:
    docs: list[Document] = []
    for path in paths:
        source, text = read_text(path, stdin)
        docs.extend(parse_documents(text, source))
    return docs


def require_kind(doc: Document) -> tuple[str, str]:
    """(apiVersion, kind) of a document, or an InputError naming it."""
    api_version = doc.obj.get("apiVersion")
    kind = doc.obj.get("kind")
    if not isinstance(kind, str) or not kind:
        raise InputError(f"{doc.where()}: missing kind")
    if not isinstance(api_version, str) or not api_version:
        raise InputError(f"{doc.where()}: {kind} has no apiVersion")
    meta = doc.obj.get("metadata")
    if meta is not None and not isinstance(meta, Mapping):
        raise InputError(f"{doc.where()}: metadata must be an object")
    return api_version, kind


def _type_name(value: Any) -> str:
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def dump_yaml(objs: Iterable[Mapping[str, Any]]) -> str:
    """A YAML stream, documents separated by ``---``; key order as given."""
    return yaml.dump_all(
        [dict(o) for o in objs],
        Dumper=_Dumper,
        default_flow_style=False,
        sort_keys=False,
        allow_unicode=True,
        explicit_start=True,
        width=1 << 16,
    )


def dump_yaml_one(obj: Any) -> str:
    return yaml.dump(
        obj,
        Dumper=_Dumper,
        default_flow_style=False,
        sort_keys=False,
        allow_unicode=True,
        width=1 << 16,
    )


def dump_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def as_list(objs: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "List", "items": [dict(o) for o in objs]}


def load_yaml_value(text: str, source: str) -> Any:
    """A single YAML/JSON value (e.g. a scenario or an overrides file)."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise InputError(f"{source}{line}: invalid YAML: {problem}") from None

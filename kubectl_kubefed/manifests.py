"""Reading and writing YAML/JSON manifest streams, as kubectl reads them.

Every input (files, standard input, scenario and overrides files, the post-renderer's
stream) comes through here. A stream is split into documents the way ``kubectl apply -f``
splits it (a line starting with ``---``), a JSON stream is read as JSON, and each YAML
document means what sigs.k8s.io/yaml makes of it (``yamlk8s``). Errors name the source,
the 1-based document and the line, so that a user with a 40-document Helm render finds
the bad one at once. Inputs larger than ``MAX_INPUT_BYTES`` are refused before parsing.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any, Final, TextIO

import yaml

from kubectl_kubefed import yamlk8s
from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.api.validation import type_name

C_YAML = yamlk8s.C_YAML
MAX_INPUT_BYTES: Final = 64 * 1024 * 1024
MAX_DEPTH: Final = yamlk8s.MAX_DEPTH


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
        return "<stdin>", read_stream(stream, "<stdin>")
    try:
        with open(path, "rb") as fh:
            return path, _decode(fh.read(MAX_INPUT_BYTES + 1), path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory") from None
    except OSError as err:
        raise InputError(f"{path}: {err.strerror}") from None


def read_stream(stream: IO[str] | IO[bytes], source: str) -> str:
    """All of a stream (at most MAX_INPUT_BYTES), as strict UTF-8 text."""
    raw_stream = getattr(stream, "buffer", stream)
    data = raw_stream.read(MAX_INPUT_BYTES + 1)
    if isinstance(data, str):  # a text stream without a buffer (tests, StringIO)
        return _decode(data.encode("utf-8", errors="surrogateescape"), source)
    return _decode(data, source)


def _decode(data: bytes, source: str) -> str:
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"{source}: larger than {MAX_INPUT_BYTES >> 20} MiB, the most kubectl-kubefed reads")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise InputError(f"{source}: not UTF-8 text (byte 0x{data[err.start]:02x} on line {line})") from None
    return text[1:] if text.startswith("\ufeff") else text


class _OutOfRange(Exception):
    pass


def _json_float(text: str) -> float | int:
    try:
        return yamlk8s.json_number(float(text))
    except yamlk8s.YamlError:
        raise _OutOfRange(text) from None


def _json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_JSON = json.JSONDecoder(parse_float=_json_float, parse_constant=_json_constant)
_SPACE = re.compile(r"[ \t\n\r]*")


def _json_stream(text: str, source: str, single: bool = False) -> list[Any] | None:
    """A stream of JSON values (as kubectl reads a JSON stream), or None if it is not one."""
    values: list[Any] = []
    pos = _SPACE.match(text, 0).end()  # type: ignore[union-attr]
    try:
        while pos < len(text):
            value, pos = _JSON.raw_decode(text, pos)
            values.append(value)
            pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
    except _OutOfRange as err:
        where = source if single else f"{source}: document {len(values) + 1}"
        raise InputError(f"{where}: number {err} is out of range") from None
    except (ValueError, RecursionError):
        return None
    if not all(_shallow(v) for v in values):
        return None
    if _SURROGATE_ESCAPE.search(text):
        values = [_replace_surrogates(v) for v in values]
    return values


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _replace_surrogates(value: Any) -> Any:
    """A lone surrogate escape (``"\\ud800"``) is U+FFFD to Go's JSON decoder."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_replace_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_replace_surrogates(k): _replace_surrogates(v) for k, v in value.items()}
    return value


def _shallow(value: Any) -> bool:
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth >= MAX_DEPTH:  # as deep as yamlk8s allows, no deeper
            return False
        if type(item) is dict:
            stack.extend((v, depth + 1) for v in item.values() if type(v) in (dict, list))
        elif type(item) is list:
            stack.extend((v, depth + 1) for v in item if type(v) in (dict, list))
    return True


_SEPARATOR = re.compile(r"^---(.*)$", re.M)
_DOCUMENT_MARKERS = ("...", "%")  # at a line start: a document end, a directive
_CONTENT = re.compile(r"^[ \t]*[^ \t\r\n#]", re.M)


@dataclass(frozen=True)
class RawDocument:
    """One document of a stream: its 1-based index, value, and text (with its comments)."""

    index: int
    value: Any
    text: str


def _chunks(text: str, source: str) -> tuple[list[tuple[int, str]], bool]:
    """(first line, text) of each document, split as kubectl splits a stream: at every line
    that starts with ``---``; only spaces or a comment may follow on that line."""
    chunks: list[tuple[int, str]] = []
    start, start_line = 0, 1  # the current document's offset and first line
    line, pos, first = 1, 0, True
    simple = True  # every separator is a document start to libyaml too ("---#x" is not)
    for m in _SEPARATOR.finditer(text):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        simple = simple and m.group(1)[:1] in ("", " ", "\t", "\r")
        rest = m.group(1).strip()
        if rest and not rest.startswith("#"):
            raise InputError(f"{source}: line {line}: invalid document separator: --- {rest}")
        chunk = text[start : m.start()]
        if not first or _CONTENT.search(chunk):  # YAML has no empty document before the first ---
            chunks.append((start_line, chunk))
        first = False
        start, start_line = m.end() + 1, line + 1
    chunk = text[start:]
    if not first or _CONTENT.search(chunk):
        chunks.append((start_line, chunk))
    return chunks, simple


def _has_document_markers(text: str) -> bool:
    return text.startswith(_DOCUMENT_MARKERS) or any("\n" + m in text for m in _DOCUMENT_MARKERS)


def stream_documents(text: str, source: str, *, single: bool = False) -> list[RawDocument]:
    """Every document of a YAML or JSON stream, empty ones as None.

    ``single``: the source holds one value, so errors name no document.
    """
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        values = _json_stream(text, source, single)
        if values is not None:
            return [RawDocument(i, v, "") for i, v in enumerate(values, start=1)]
    chunks, simple = _chunks(text, source)
    if simple and not _has_document_markers(text):
        # One parser run over the whole stream: much faster than one per document.
        try:
            values = list(yamlk8s.documents(text))
        except yamlk8s.YamlError:
            values = []  # find and name the bad document below
        if len(values) == len(chunks):
            return [
                RawDocument(i, v, c[1]) for i, (v, c) in enumerate(zip(values, chunks, strict=True), start=1)
            ]
    docs: list[RawDocument] = []
    for index, (first_line, chunk) in enumerate(chunks, start=1):
        try:
            value = yamlk8s.first_document(chunk)
        except yamlk8s.YamlError as err:
            line = f" (line {first_line + err.line - 1})" if err.line is not None else ""
            where = source if single and len(chunks) == 1 else f"{source}: document {index}"
            raise InputError(f"{where}{line}: invalid YAML: {err.message}") from None
        docs.append(RawDocument(index, value, chunk))
    return docs


def _raw_documents(text: str, source: str) -> Iterator[tuple[int, Any]]:
    for doc in stream_documents(text, source):
        yield doc.index, doc.value


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
                raise InputError(f"{source}: document {index}: expected an object, got {type_name(item)}")
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


_INLINE_START = re.compile(r"^--- ", re.M)


def dump_yaml(objs: Iterable[Mapping[str, Any]]) -> str:
    """A YAML stream, documents separated by ``---`` lines (kubectl allows nothing else on
    them); key order as given."""
    return _INLINE_START.sub("---\n", _dump_all(objs))


def _dump_all(objs: Iterable[Mapping[str, Any]]) -> str:
    return yaml.dump_all(
        [dict(o) for o in objs],
        Dumper=yamlk8s.Dumper,
        default_flow_style=False,
        sort_keys=False,
        allow_unicode=True,
        explicit_start=True,
        width=1 << 16,
    )


def dump_yaml_one(obj: Any) -> str:
    return yaml.dump(
        obj,
        Dumper=yamlk8s.Dumper,
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
    values = [doc.value for doc in stream_documents(text, source, single=True) if doc.value is not None]
    if len(values) > 1:
        raise InputError(f"{source}: expected one YAML document, found {len(values)}")
    return values[0] if values else None

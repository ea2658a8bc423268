"""``-o``: every output format of every command, checked and printed in one place.

A command names the formats it offers (``output_option``); ``choose`` checks the value
given (one message for every command); ``emit`` prints through the registry: the
machine-readable printers here (stable ``yaml``/``json``), the command's own for people
(``table``, ``text``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

import typer

from kubectl_kubefed import manifests
from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.api.validation import printable


class Format(StrEnum):
    yaml = "yaml"
    json = "json"
    table = "table"
    text = "text"


def _yaml(value: Any, stream: bool) -> str:
    """A stream of objects: YAML documents; any other value: one document."""
    if stream:
        return manifests.dump_yaml(value) if value else ""
    return manifests.dump_yaml_one(value)


def _json(value: Any, stream: bool) -> str:
    """A stream of objects: one ``kind: List``; any other value as it is."""
    return manifests.dump_json(manifests.as_list(value) if stream else value)


# format -> printer(value, stream) for the machine-readable formats
PRINTERS: dict[Format, Callable[[Any, bool], str]] = {Format.yaml: _yaml, Format.json: _json}
OBJECTS = (Format.yaml, Format.json)


def output_option(formats: Sequence[Format], help: str) -> Any:
    """The ``-o, --output`` option offering ``formats``."""
    return typer.Option("-o", "--output", metavar="|".join(formats), help=help)


def choose(value: str | None, formats: Sequence[Format], default: Format | None = None) -> Format | None:
    """The format ``-o`` names, one of ``formats``; ``default`` when not given."""
    if value is None:
        return default
    if value not in formats:
        choices = ", ".join(formats[:-1]) + f" or {formats[-1]}" if len(formats) > 1 else formats[0]
        raise InputError(f"-o must be {choices}, not {printable(value)}")
    return Format(value)


def emit(value: Any, fmt: Format, *, stream: bool = False, human: Callable[[Any], str] | None = None) -> None:
    """Print ``value`` as ``fmt``: a registered printer, else the command's ``human`` one."""
    printer = PRINTERS.get(fmt)
    if printer is not None:
        sys.stdout.write(printer(value, stream))
    elif human is not None:
        sys.stdout.write(human(value))
    else:
        raise AssertionError(f"no printer for -o {fmt}")


def print_objects(objs: Iterable[Mapping[str, Any]], fmt: Format) -> None:
    """Print a stream: YAML documents, or one JSON ``kind: List``."""
    emit(list(objs), fmt, stream=True)


def print_value(value: Any, fmt: Format) -> None:
    emit(value, fmt)


def warn(message: str) -> None:
    print(f"warning: {printable(message)}", file=sys.stderr)

"""Printing objects the way kubectl users expect (``-o yaml|json``), and warnings."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from kubectl_kubefed import manifests
from kubectl_kubefed.api.validation import printable


class Format(StrEnum):
    yaml = "yaml"
    json = "json"


def print_objects(objs: Iterable[Mapping[str, Any]], fmt: Format) -> None:
    """Print a stream: YAML documents, or one JSON ``kind: List``."""
    objs = list(objs)
    if fmt is Format.json:
        sys.stdout.write(manifests.dump_json(manifests.as_list(objs)))
    elif objs:
        sys.stdout.write(manifests.dump_yaml(objs))


def print_value(value: Any, fmt: Format) -> None:
    if fmt is Format.json:
        sys.stdout.write(manifests.dump_json(value))
    else:
        sys.stdout.write(manifests.dump_yaml_one(value))


def warn(message: str) -> None:
    print(f"warning: {printable(message)}", file=sys.stderr)

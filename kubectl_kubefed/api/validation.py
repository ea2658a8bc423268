"""Kubernetes' rules for names and metadata, and safe echoing of user text in messages.

Pure functions: each check returns the problem as a short phrase, or ``None`` when the
value is valid. The rules are Kubernetes' own (``k8s.io/apimachinery/pkg/util/validation``
and the per-kind name validators of the API server), so that whatever we accept offline a
real API server accepts too, and a name never smuggles a path (``../x``) into a file name
or a URL.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any, Final

DNS1123_LABEL_MAX: Final = 63
DNS1123_SUBDOMAIN_MAX: Final = 253
LABEL_VALUE_MAX: Final = 63
QUALIFIED_NAME_MAX: Final = 63

_LABEL: Final = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL = re.compile(_LABEL)
_DNS1123_SUBDOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_DNS1035_LABEL = re.compile(r"[a-z](?:[-a-z0-9]*[a-z0-9])?")
_QUALIFIED_NAME = re.compile(r"[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?")
_LABEL_VALUE = re.compile(r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?")

RBAC_GROUP: Final = "rbac.authorization.k8s.io"
# Kinds whose names the API server checks with ValidatePathSegmentName (so ``system:x`` is
# allowed); every other kind we know is a DNS-1123 subdomain unless listed below.
_PATH_SEGMENT_KINDS: Final = frozenset(
    {
        (RBAC_GROUP, "Role"),
        (RBAC_GROUP, "ClusterRole"),
        (RBAC_GROUP, "RoleBinding"),
        (RBAC_GROUP, "ClusterRoleBinding"),
    }
)
_DNS1123_LABEL_KINDS: Final = frozenset({("", "Namespace")})
_DNS1035_LABEL_KINDS: Final = frozenset({("", "Service")})


def _not_a_string(value: Any) -> str | None:
    return None if isinstance(value, str) else f"must be a string, not {type_name(value)}"


def dns1123_label(value: Any) -> str | None:
    """A lowercase RFC 1123 label (namespaces): ``[a-z0-9]([-a-z0-9]*[a-z0-9])?``, at most 63."""
    if (problem := _not_a_string(value)) is not None:
        return problem
    if len(value) > DNS1123_LABEL_MAX:
        return f"must be at most {DNS1123_LABEL_MAX} characters"
    if not _DNS1123_LABEL.fullmatch(value):
        return "must be a lowercase RFC 1123 label (a-z, 0-9 and '-', starting and ending alphanumeric)"
    return None


def dns1035_label(value: Any) -> str | None:
    """A lowercase RFC 1035 label (services): like an RFC 1123 label, starting with a letter."""
    if (problem := _not_a_string(value)) is not None:
        return problem
    if len(value) > DNS1123_LABEL_MAX:
        return f"must be at most {DNS1123_LABEL_MAX} characters"
    if not _DNS1035_LABEL.fullmatch(value):
        return "must be a lowercase RFC 1035 label (a-z, 0-9 and '-', starting with a letter)"
    return None


def dns1123_subdomain(value: Any) -> str | None:
    """A lowercase RFC 1123 subdomain: labels joined by '.', at most 253 characters."""
    if (problem := _not_a_string(value)) is not None:
        return problem
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        return f"must be at most {DNS1123_SUBDOMAIN_MAX} characters"
    if not _DNS1123_SUBDOMAIN.fullmatch(value):
        return (
            "must be a lowercase RFC 1123 subdomain (a-z, 0-9, '-' and '.', starting and ending alphanumeric)"
        )
    return None


def path_segment_name(value: Any) -> str | None:
    """Kubernetes' ValidatePathSegmentName: not ``.`` or ``..``, no ``/`` or ``%``."""
    if (problem := _not_a_string(value)) is not None:
        return problem
    if value in (".", ".."):
        return f"may not be '{value}'"
    for bad in ("/", "%"):
        if bad in value:
            return f"may not contain '{bad}'"
    if any(is_control(c) for c in value):
        return "may not contain control characters"
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        return f"must be at most {DNS1123_SUBDOMAIN_MAX} characters"
    return None


def qualified_name(value: Any) -> str | None:
    """A label or annotation key: an optional DNS subdomain prefix and '/', then a name."""
    if (problem := _not_a_string(value)) is not None:
        return problem
    prefix, slash, name = value.rpartition("/")
    if slash:
        if not prefix:
            return "has an empty prefix before '/'"
        if dns1123_subdomain(prefix) is not None:
            return "must have a DNS-1123 subdomain as its prefix"
    if not name:
        return "must have a name"
    if len(name) > QUALIFIED_NAME_MAX:
        return f"must have a name of at most {QUALIFIED_NAME_MAX} characters"
    if not _QUALIFIED_NAME.fullmatch(name):
        return "must consist of alphanumerics, '-', '_' or '.', starting and ending alphanumeric"
    return None


def label_value(value: Any) -> str | None:
    """A label value: empty, or at most 63 alphanumerics, '-', '_', '.' (alphanumeric ends)."""
    if (problem := _not_a_string(value)) is not None:
        return problem
    if len(value) > LABEL_VALUE_MAX:
        return f"must be at most {LABEL_VALUE_MAX} characters"
    if not _LABEL_VALUE.fullmatch(value):
        return "must consist of alphanumerics, '-', '_' or '.', starting and ending alphanumeric"
    return None


def name_rule(group: str, kind: str) -> Any:
    """The API server's validator for names of this kind."""
    if (group, kind) in _PATH_SEGMENT_KINDS:
        return path_segment_name
    if (group, kind) in _DNS1123_LABEL_KINDS:
        return dns1123_label
    if (group, kind) in _DNS1035_LABEL_KINDS:
        return dns1035_label
    return dns1123_subdomain


def object_name(group: str, kind: str, value: Any) -> str | None:
    """The problem with ``value`` as the name of a ``kind`` object, or None."""
    rule = name_rule(group, kind)
    problem: str | None = rule(value)
    return problem


def metadata_problem(obj: Mapping[str, Any], group: str, kind: str, *, need_name: bool = True) -> str | None:
    """What is wrong with an object's metadata, as ``metadata.<field> ...``; None when valid.

    Checks the shape (a map; strings where Kubernetes has strings), the name by the
    kind's rule, the namespace as a DNS-1123 label, and label and annotation keys and
    values as the API server does.
    """
    meta = obj.get("metadata")
    if meta is None:
        return "has no metadata.name" if need_name else None
    if not isinstance(meta, Mapping):
        return f"metadata must be a map, not {type_name(meta)}"
    name = meta.get("name")
    if name is None or name == "":
        if need_name:
            return "has no metadata.name"
    elif (problem := object_name(group, kind, name)) is not None:
        return f"metadata.name {quote(name)} {problem}"
    namespace = meta.get("namespace")
    if namespace is not None and namespace != "" and (problem := dns1123_label(namespace)) is not None:
        return f"metadata.namespace {quote(namespace)} {problem}"
    for field in ("labels", "annotations"):
        value = meta.get(field)
        if value is None:
            continue
        if not isinstance(value, Mapping):
            return f"metadata.{field} must be a map, not {type_name(value)}"
        for key, item in value.items():
            if (problem := qualified_name(key)) is not None:
                return f"metadata.{field} key {quote(key)} {problem}"
            check = label_value if field == "labels" else _not_a_string
            if (problem := check(item)) is not None:
                return f"metadata.{field}.{key} {problem}"
    return None


def type_name(value: Any) -> str:
    """``a string``, ``a number``, ... for messages about wrong types."""
    if value is None:
        return "null"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "a map"
    return type(value).__name__


def is_control(char: str) -> bool:
    # Cc: C0/C1 controls (ESC, CR, ...); Cf: format (bidi overrides); Cs/Co/Cn: surrogates,
    # private use, unassigned; Zl/Zp: line and paragraph separators.
    return unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def printable(text: str) -> str:
    """``text`` with every control or format character escaped (``\\x1b``, ``\\u202e``), so
    a message echoing user input can neither drive the terminal nor span lines."""
    if text.isprintable():
        return text
    out: list[str] = []
    for char in text:
        if char == "\\" or not is_control(char):
            out.append(char)
            continue
        code = ord(char)
        out.append(
            f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
        )
    return "".join(out)


def quote(value: Any, limit: int = 80) -> str:
    """A user-given value for a message: quoted, escaped, and shortened when long."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > limit:
        text = text[:limit] + "..."
    return '"' + printable(text) + '"'


def kind_problem(value: Any) -> str | None:
    """A kind, as CRDs require it: lowercased, an RFC 1035 label (``Deployment``, ``Widget``)."""
    if (problem := _not_a_string(value)) is not None:
        return problem
    if len(value) > DNS1123_LABEL_MAX or not _DNS1035_LABEL.fullmatch(value.lower()):
        return "must be alphanumeric, starting with a letter, at most 63 characters"
    return None


def api_version_problem(value: Any) -> str | None:
    """``version`` or ``group/version``: a DNS-1123 subdomain group and an RFC 1035 label version."""
    if (problem := _not_a_string(value)) is not None:
        return problem
    group, slash, version = value.rpartition("/")
    if slash and dns1123_subdomain(group) is not None:
        return "must have a DNS-1123 subdomain as its group"
    if dns1035_label(version) is not None:
        return "must have a version like v1 or v1beta1"
    return None


def object_problem(obj: Mapping[str, Any], *, need_name: bool = True) -> str | None:
    """What is wrong with an object's apiVersion, kind and metadata; None when valid."""
    kind = obj.get("kind")
    if not isinstance(kind, str) or not kind:
        return "missing kind"
    if (problem := kind_problem(kind)) is not None:
        return f"kind {quote(kind)} {problem}"
    api_version = obj.get("apiVersion")
    if not isinstance(api_version, str) or not api_version:
        return f"{kind} has no apiVersion"
    if (problem := api_version_problem(api_version)) is not None:
        return f"{kind}: apiVersion {quote(api_version)} {problem}"
    group = api_version.rpartition("/")[0]
    if (problem := metadata_problem(obj, group, kind, need_name=need_name)) is not None:
        return f"{kind} {problem}" if problem.startswith("has ") else f"{kind}: {problem}"
    return None

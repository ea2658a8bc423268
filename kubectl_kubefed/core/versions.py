"""Version bookkeeping (KubeFed semantics §1.4, §3.4).

Hashes are bit-compatible with KubeFed's, so the PropagatedVersion objects a KubeFed
control plane wrote stay valid after migrating. KubeFed v0.10.0 (``hashUnstructured`` in
``pkg/controller/sync/resource.go``) hashes ``Unstructured.MarshalJSON()``, which is
``json.NewEncoder(w).Encode(obj)``: Go ``encoding/json`` text **plus a trailing newline**.

The numbers are the ones KubeFed held: a template comes from the API server through
apimachinery's JSON decoder (an integer that fits int64 stays one, any other number is a
float64), while the overrides go through ``encoding/json`` into ``interface{}`` first
(``util.UnstructuredToInterface``), so every override value number is a float64 there.

Control characters are escaped as the Go 1.16 ``encoding/json`` that built the released
KubeFed v0.10.0 images did (``\\u0008``, ``\\u000c``; Go 1.22 and later write ``\\b``, ``\\f``).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from kubectl_kubefed.api.objects import annotations_of, labels_of, metadata, name_of, namespace_of

_GO_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _go_string(s: str) -> str:
    out = ['"']
    for ch in s:
        if "\ud800" <= ch <= "\udfff":
            # A lone surrogate (json.loads of "\ud800"): Go's decoder made it U+FFFD.
            out.append("\ufffd")
        elif ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _go_float(f: float) -> str:
    """Go's float64 formatting: shortest digits, positional in [1e-6, 1e21), else e-notation."""
    if math.isnan(f) or math.isinf(f):
        raise ValueError("unsupported float value in JSON")
    shortest = repr(f)
    a = abs(f)
    if a == 0 or 1e-6 <= a < 1e21:
        text = format(Decimal(shortest), "f")
        return text[:-2] if text.endswith(".0") else text
    mantissa, _, exp = shortest.partition("e")
    digits = exp[1:].lstrip("0") or "0"
    return f"{mantissa.removesuffix('.0')}e{exp[0]}{digits.zfill(2) if exp[0] == '+' else digits}"


def _go_int(i: int, *, floats: bool) -> str:
    # An integer outside int64 was a float64 in KubeFed; so was every number of an override.
    if floats or not _INT64_MIN <= i <= _INT64_MAX:
        try:
            return _go_float(float(i))
        except OverflowError:
            raise ValueError("number out of float64 range in JSON") from None
    return str(i)


def _go_key(key: Any) -> str:
    # The key as Go held it: a lone surrogate was decoded as U+FFFD.
    return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in str(key))


def go_json(value: Any, *, floats: bool = False) -> str:
    """Go ``encoding/json`` marshalling of an unstructured value: sorted keys, HTML escapes.

    ``floats`` renders every number as the float64 ``encoding/json`` decodes it into (the
    override values); otherwise integers that fit int64 are exact, as apimachinery keeps them.
    """
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return _go_int(value, floats=floats)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        return _go_string(value)
    if isinstance(value, Mapping):
        # Go sorts the keys by their bytes (UTF-8 order is code point order).
        items = sorted(((_go_key(k), v) for k, v in value.items()), key=lambda kv: kv[0])
        return "{" + ",".join(f"{_go_string(k)}:{go_json(v, floats=floats)}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(go_json(v, floats=floats) for v in value) + "]"
    # Dates and other scalars YAML may produce: Go would have seen them as strings.
    return _go_string(json.dumps(value, default=str).strip('"'))


def _md5_of_encoding(text: str) -> str:
    # json.Encoder.Encode, which KubeFed hashes, ends its output with a newline.
    return hashlib.md5((text + "\n").encode("utf-8"), usedforsecurity=False).hexdigest()


def template_text(fed: Mapping[str, Any]) -> str | None:
    """The text KubeFed hashes for the template (without the newline); None without one."""
    spec = fed.get("spec")
    if not isinstance(spec, Mapping) or not isinstance(spec.get("template"), Mapping):
        return None
    return go_json(spec["template"])


def template_version(fed: Mapping[str, Any]) -> str:
    """MD5 of ``spec.template``; empty when there is no template."""
    text = template_text(fed)
    return "" if text is None else _md5_of_encoding(text)


def _go_override_item(item: Mapping[str, Any]) -> str:
    # Struct field order of KubeFed's GenericOverrideItem / ClusterOverride, with omitempty.
    # (KubeFed could not hash malformed shapes at all; they are skipped here, and
    # overrides.parse refuses them with ApplyOverridesFailed.)
    parts = [f'"clusterName":{_go_string(str(item.get("clusterName") or ""))}']
    ops = item.get("clusterOverrides")
    ops = [op for op in ops if isinstance(op, Mapping)] if isinstance(ops, list) else []
    if ops:
        rendered = []
        for op in ops:
            fields = []
            if op.get("op"):
                fields.append(f'"op":{_go_string(str(op["op"]))}')
            fields.append(f'"path":{_go_string(str(op.get("path") or ""))}')
            if op.get("value") is not None:
                fields.append(f'"value":{go_json(op["value"], floats=True)}')
            rendered.append("{" + ",".join(fields) + "}")
        parts.append('"clusterOverrides":[' + ",".join(rendered) + "]")
    return "{" + ",".join(parts) + "}"


def overrides_text(fed: Mapping[str, Any]) -> str | None:
    """The text KubeFed hashes for the overrides (without the newline); None without spec."""
    spec = fed.get("spec")
    if not isinstance(spec, Mapping):
        return None
    overrides = spec.get("overrides")
    if not isinstance(overrides, list):
        body = "null"  # absent or null: a nil slice
    else:
        body = "[" + ",".join(_go_override_item(i) for i in overrides if isinstance(i, Mapping)) + "]"
    return '{"overrides":' + body + "}"


def overrides_version(fed: Mapping[str, Any]) -> str:
    """MD5 of ``{"overrides": spec.overrides}`` as KubeFed serialised it; empty without spec."""
    text = overrides_text(fed)
    return "" if text is None else _md5_of_encoding(text)


def object_version(obj: Mapping[str, Any]) -> str:
    """``gen:<generation>`` when the object tracks generation, else ``rv:<resourceVersion>``."""
    meta = metadata(obj)
    generation = meta.get("generation") or 0
    if generation:
        return f"gen:{generation}"
    return f"rv:{meta.get('resourceVersion') or ''}"


def _meta_equivalent(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    # nil and empty maps count as equal, as in KubeFed's ObjectMetaEquivalent.
    return (
        name_of(a) == name_of(b)
        and namespace_of(a) == namespace_of(b)
        and labels_of(a) == labels_of(b)
        and annotations_of(a) == annotations_of(b)
    )


def update_needed(recorded: str, desired: Mapping[str, Any], member: Mapping[str, Any]) -> bool:
    """KubeFed's currency decision for an existing member object.

    ``recorded`` is the version stored for this cluster (empty when the hashes changed).
    For generation-tracked kinds, metadata is compared too: label changes do not bump
    generation.
    """
    current = object_version(member)
    if recorded != current:
        return True
    if current.startswith("gen:"):
        return not _meta_equivalent(desired, member)
    return False

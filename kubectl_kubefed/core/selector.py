"""Kubernetes label selectors: the structured form, the string form, and matching."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


class SelectorError(ValueError):
    """An invalid selector (unknown operator, bad values, bad syntax)."""


def _validate_expression(expr: Any) -> tuple[str, str, list[str]]:
    if not isinstance(expr, Mapping):
        raise SelectorError("matchExpressions entries must be objects")
    key = expr.get("key")
    op = expr.get("operator")
    values = expr.get("values") or []
    if not isinstance(key, str) or not key:
        raise SelectorError("matchExpressions entry without key")
    if op not in OPERATORS:
        raise SelectorError(f"{op!r} is not a valid label selector operator")
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise SelectorError(f"values of {key!r} must be a list of strings")
    if op in ("In", "NotIn") and not values:
        raise SelectorError(f"values of {key!r} must be non-empty for {op}")
    if op in ("Exists", "DoesNotExist") and values:
        raise SelectorError(f"values of {key!r} must be empty for {op}")
    return key, str(op), list(values)


def validate(selector: Mapping[str, Any]) -> None:
    """Raise SelectorError unless the selector is well formed."""
    match_labels = selector.get("matchLabels") or {}
    if not isinstance(match_labels, Mapping):
        raise SelectorError("matchLabels must be a map")
    for k, v in match_labels.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise SelectorError(f"matchLabels {k!r} must map a string to a string")
    exprs = selector.get("matchExpressions") or []
    if not isinstance(exprs, list):
        raise SelectorError("matchExpressions must be a list")
    for expr in exprs:
        _validate_expression(expr)


def matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether labels satisfy a structured selector; an empty selector matches everything."""
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = _validate_expression(expr)
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


_SET_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9._/-]+)\s*(?:(in|notin)\s*\(([^)]*)\)|(==|=|!=)\s*(\S*))?\s*$")
_LABEL_KEY_RE = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LABEL_VALUE_RE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    terms: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append("".join(current))
            current = []
        else:
            current.append(ch)
    terms.append("".join(current))
    return terms


def _check_key(key: str, text: str) -> None:
    if not _LABEL_KEY_RE.match(key):
        raise SelectorError(f"invalid label key {key!r} in selector {text!r}")


def _check_value(value: str, text: str) -> None:
    if len(value) > 63 or not _LABEL_VALUE_RE.match(value):
        raise SelectorError(f"invalid label value {value!r} in selector {text!r}")


def parse(text: str) -> dict[str, Any]:
    """Parse kubectl's selector syntax (``k=v,k2 in (a,b),!k3,k4``) to a structured selector."""
    match_labels: dict[str, str] = {}
    exprs: list[dict[str, Any]] = []
    if not text.strip():
        return {"matchLabels": {}}
    for term in _split_terms(text):
        m = _SET_RE.match(term)
        if not m or not term.strip():
            raise SelectorError(f"cannot parse selector term {term.strip()!r} in {text!r}")
        neg, key, set_op, set_values, eq_op, eq_value = m.groups()
        _check_key(key, text)
        if neg:
            if set_op or eq_op:
                raise SelectorError(f"'!' only applies to a bare key in {text!r}")
            exprs.append({"key": key, "operator": "DoesNotExist"})
        elif set_op:
            values = [v.strip() for v in set_values.split(",") if v.strip()]
            if not values:
                raise SelectorError(f"empty value set for {key!r} in {text!r}")
            for v in values:
                _check_value(v, text)
            operator = "In" if set_op == "in" else "NotIn"
            exprs.append({"key": key, "operator": operator, "values": sorted(set(values))})
        elif eq_op:
            _check_value(eq_value, text)
            if eq_op == "!=":
                exprs.append({"key": key, "operator": "NotIn", "values": [eq_value]})
            elif match_labels.get(key, eq_value) != eq_value:
                raise SelectorError(f"conflicting values for {key!r} in {text!r}")
            else:
                match_labels[key] = eq_value
        else:
            exprs.append({"key": key, "operator": "Exists"})
    selector: dict[str, Any] = {"matchLabels": match_labels}
    if exprs:
        selector["matchExpressions"] = exprs
    return selector


def format_selector(selector: Mapping[str, Any]) -> str:
    """The string form of a structured selector, for tables and messages."""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op, key, values = expr.get("operator"), expr.get("key"), expr.get("values") or []
        if op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
        else:
            parts.append(f"{key} {'in' if op == 'In' else 'notin'} ({','.join(values)})")
    return ",".join(parts)

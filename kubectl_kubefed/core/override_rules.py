"""The ``--overrides FILE`` format: per-cluster overrides matched to objects by kind and name.

Two shapes are accepted (documented in docs/cli.md):

* KubeFed's own ``spec.overrides`` list (``[{clusterName, clusterOverrides}]``), applied
  to every object;
* a list of rules ``{kind?, name?, namespace?, overrides: [...]}``; a rule applies to the
  objects whose kind, name and namespace equal the given ones (absent means any). When
  several rules match an object, their entries for the same cluster are concatenated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubectl_kubefed.core import overrides as ov


@dataclass(frozen=True)
class Rule:
    kind: str | None
    name: str | None
    namespace: str | None
    overrides: tuple[Mapping[str, Any], ...]

    def matches(self, kind: str, name: str, namespace: str) -> bool:
        return (
            (self.kind is None or self.kind == kind)
            and (self.name is None or self.name == name)
            and (self.namespace is None or self.namespace == namespace)
        )


def parse_rules(value: Any) -> list[Rule]:
    """Validate an overrides file's content; raises OverridesError."""
    if isinstance(value, Mapping) and "overrides" in value and "clusterName" not in value:
        value = value["overrides"]
    if value is None:
        return []
    if not isinstance(value, list):
        raise ov.OverridesError("expected a list of overrides or of {kind, name, overrides} rules")
    if all(isinstance(v, Mapping) and "clusterName" in v for v in value):
        ov.parse(value)
        return [Rule(None, None, None, tuple(value))]
    rules = []
    for i, entry in enumerate(value, start=1):
        if not isinstance(entry, Mapping) or "overrides" not in entry:
            raise ov.OverridesError(f"rule {i}: expected {{kind, name, overrides}}")
        for key in ("kind", "name", "namespace"):
            if key in entry and not isinstance(entry[key], str):
                raise ov.OverridesError(f"rule {i}: {key} must be a string")
        try:
            ov.parse(entry["overrides"])
        except ov.OverridesError as err:
            raise ov.OverridesError(f"rule {i}: {err}") from None
        rules.append(
            Rule(
                entry.get("kind"),
                entry.get("name"),
                entry.get("namespace"),
                tuple(entry["overrides"]),
            )
        )
    return rules


def overrides_for(rules: list[Rule], kind: str, name: str, namespace: str) -> list[dict[str, Any]]:
    """Merged ``spec.overrides`` for one object; raises OverridesError on a path conflict."""
    merged: dict[str, list[Any]] = {}
    for rule in rules:
        if not rule.matches(kind, name, namespace):
            continue
        for entry in rule.overrides:
            merged.setdefault(str(entry["clusterName"]), []).extend(entry.get("clusterOverrides") or [])
    result = [{"clusterName": c, "clusterOverrides": ops} for c, ops in merged.items()]
    ov.parse(result)
    return result

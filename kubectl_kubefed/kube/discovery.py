"""Server-wide API discovery: which resources a cluster serves, and finding one by name
the way kubectl and kubefedctl do (plural, singular, kind, short name, plural.group)."""

from __future__ import annotations

from kubectl_kubefed.kube.client import ApiResource as ApiResource  # re-exported
from kubectl_kubefed.kube.client import KubeClusterClient
from kubectl_kubefed.sync.errors import ApiError


class LookupError_(Exception):
    """No match, or several (the message says which names to use instead)."""


def _resources(client: KubeClusterClient, api_version: str) -> list[ApiResource]:
    return client.discovery.fetch(api_version)


def preferred_resources(client: KubeClusterClient, version: str | None = None) -> list[ApiResource]:
    """Resources of every group at its preferred version (or ``version`` where served)."""
    out = _resources(client, "v1")
    groups = client.rest.request("get", "GET", "/apis")
    for g in groups.get("groups") or []:
        versions = [v["version"] for v in g.get("versions") or []]
        chosen = version if version in versions else (g.get("preferredVersion") or {}).get("version")
        if not chosen:
            continue
        try:
            out.extend(_resources(client, f"{g['name']}/{chosen}"))
        except ApiError:
            continue  # an aggregated API that is down must not break discovery
    return out


def find(resources: list[ApiResource], name: str) -> ApiResource:
    wanted = name.lower()
    matches = [
        r
        for r in resources
        if wanted
        in {r.plural, r.singular, r.kind.lower(), r.qualified.lower(), *(s.lower() for s in r.short_names)}
    ]
    core = [r for r in matches if r.group == ""]
    if core:
        return core[0]
    if not matches:
        raise LookupError_(f'the server has no resource type "{name}"')
    if len({r.qualified for r in matches}) > 1:
        options = ", ".join(sorted({r.qualified for r in matches}))
        raise LookupError_(f'"{name}" is ambiguous; use a group-qualified name: {options}')
    return matches[0]

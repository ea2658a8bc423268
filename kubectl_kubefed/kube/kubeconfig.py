"""Kubeconfig handling as kubectl users expect it.

``--kubeconfig`` (one file) beats ``$KUBECONFIG`` (a path list whose files are merged,
the first to set a value winning), which beats ``~/.kube/config``; ``--context`` picks a
context, else the current one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.config.config_exception import ConfigException

from kubectl_kubefed.api.errors import InputError


@dataclass(frozen=True)
class Context:
    name: str
    cluster: str
    user: str
    namespace: str


def _source(kubeconfig: str | None) -> str | None:
    if kubeconfig:
        if not os.path.exists(kubeconfig):
            raise InputError(f"--kubeconfig {kubeconfig}: no such file")
        return kubeconfig
    return None  # the kubernetes package reads $KUBECONFIG (merged) or ~/.kube/config


def contexts(kubeconfig: str | None = None) -> tuple[list[Context], str]:
    """All contexts and the current context's name."""
    try:
        items, active = k8s_config.list_kube_config_contexts(config_file=_source(kubeconfig))
    except (ConfigException, OSError) as err:
        raise InputError(f"cannot load kubeconfig: {str(err).splitlines()[0]}") from None
    out = [
        Context(
            str(c["name"]),
            str((c.get("context") or {}).get("cluster") or ""),
            str((c.get("context") or {}).get("user") or ""),
            str((c.get("context") or {}).get("namespace") or ""),
        )
        for c in items or []
    ]
    return out, str((active or {}).get("name") or "")


def resolve_context(kubeconfig: str | None, context: str | None) -> Context:
    all_contexts, current = contexts(kubeconfig)
    wanted = context or current
    if not wanted:
        raise InputError("no context given and the kubeconfig has no current-context")
    for c in all_contexts:
        if c.name == wanted:
            return c
    raise InputError(f'context "{wanted}" does not exist in the kubeconfig')


def configuration(kubeconfig: str | None, context: str | None) -> Any:
    """A ``kubernetes.client.Configuration`` for a context (TLS verification as configured)."""
    resolved = resolve_context(kubeconfig, context)
    cfg = k8s_client.Configuration()
    try:
        k8s_config.load_kube_config(
            config_file=_source(kubeconfig),
            context=resolved.name,
            client_configuration=cfg,
            persist_config=False,
        )
    except (ConfigException, OSError) as err:
        raise InputError(f'context "{resolved.name}": {str(err).splitlines()[0]}') from None
    return cfg

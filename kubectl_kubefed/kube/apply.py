"""Create-or-update of objects on a real cluster (``apply``, shared with the simulator:
``kubectl_kubefed.sync.apply``), and waiting for CRDs to be served."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from kubectl_kubefed.sync.apply import apply as apply  # re-exported: the one apply
from kubectl_kubefed.sync.client import ClusterClient
from kubectl_kubefed.sync.errors import NotFound, Unavailable


def wait_crd_served(client: ClusterClient, api_version: str, kind: str, timeout: float = 30.0) -> None:
    """Poll until the API server serves the kind (a new CRD takes a moment)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.list(api_version, kind)
            return
        except (NotFound, Unavailable):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def server_dry_run(client: ClusterClient) -> bool:
    """Whether the client's writes are the API server's dry run (``--dry-run=server``)."""
    return bool(getattr(client, "server_dry_run", False))


def preview(
    client: ClusterClient, obj: Mapping[str, Any], ref: str, say: Callable[[str], None], where: str = ""
) -> None:
    """``--dry-run``: say what would be written (client); or send it as the API server's dry
    run and say the server's answer (server), so admission and validation are checked. An
    object in a namespace or of a CRD that this command would create first cannot be
    checked by the server: it is named as such."""
    if not server_dry_run(client):
        say(f"{ref} would be created or updated{where} (dry run)")
        return
    try:
        _, action = apply(client, obj)
    except NotFound as err:
        say(f"{ref} would be created{where} (server dry run: not checked, {err})")
        return
    say(f"{ref} {action}{where} (server dry run)")


def preview_delete(
    client: ClusterClient,
    target: tuple[str, str, str, str],
    ref: str,
    say: Callable[[str], None],
    where: str = "",
) -> None:
    """``--dry-run`` of a delete: said (client), or sent as the API server's dry run (server)."""
    if not server_dry_run(client):
        say(f"{ref} would be deleted{where} (dry run)")
        return
    try:
        client.delete(*target)
    except NotFound:
        return
    say(f"{ref} deleted{where} (server dry run)")

"""The e2e suite's retry-on-Conflict update (tests/e2e/conftest.py), on a fake client."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest

from kubectl_kubefed.sync.errors import Conflict
from tests.e2e.conftest import update_retrying


class RacedClient:
    """Someone else writes the object between our read and our update, ``races`` times."""

    def __init__(self, races: int) -> None:
        self.races = races
        self.stored: dict[str, Any] = {
            "metadata": {"name": "cfg", "resourceVersion": "1", "labels": {}},
            "data": {"v": "1"},
        }
        self.updates: list[dict[str, Any]] = []

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any]:
        return copy.deepcopy(self.stored)  # a real client returns a fresh object every time

    def update(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        self.updates.append(copy.deepcopy(dict(obj)))
        if self.races:
            self.races -= 1
            # the controller's write: a new resourceVersion and a change of its own
            version = int(self.stored["metadata"]["resourceVersion"]) + 1
            self.stored["metadata"]["resourceVersion"] = str(version)
            self.stored["metadata"]["labels"][f"controller-{version}"] = "yes"
        if obj["metadata"]["resourceVersion"] != self.stored["metadata"]["resourceVersion"]:
            raise Conflict("the object has been modified; please apply your changes to the latest version")
        self.stored = {**copy.deepcopy(dict(obj)), "metadata": {**obj["metadata"], "resourceVersion": "new"}}
        return copy.deepcopy(self.stored)


def test_conflict_twice_then_the_change_lands_on_the_latest_version() -> None:
    client = RacedClient(races=2)
    result = update_retrying(
        client,  # type: ignore[arg-type]
        "v1",
        "ConfigMap",
        "ns",
        "cfg",
        lambda obj: obj["data"].update(v="2"),
    )
    assert [u["metadata"]["resourceVersion"] for u in client.updates] == ["1", "2", "3"]
    assert all(u["data"] == {"v": "2"} for u in client.updates)  # re-applied after every re-read
    assert result["data"] == {"v": "2"}
    # the controller's writes in between are kept, not overwritten with a stale copy
    assert set(result["metadata"]["labels"]) == {"controller-2", "controller-3"}


def test_gives_up_with_the_conflict_after_the_last_attempt() -> None:
    client = RacedClient(races=10)
    with pytest.raises(Conflict):
        update_retrying(client, "v1", "ConfigMap", "ns", "cfg", lambda o: None, attempts=3)  # type: ignore[arg-type]
    assert len(client.updates) == 3

"""KubeFed's leader lock (a ConfigMap with client-go's record in an annotation) and ours
(a Lease of the same name) exclude each other: ours never leads while a KubeFed replica's
record is live, and holds that record itself while leading, so a KubeFed replica waits."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

import pytest

from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.cli.controller import _settings
from kubectl_kubefed.kube.leader import LEGACY_ANNOTATION, LeaderElector
from kubectl_kubefed.sync.errors import AlreadyExists, Conflict, NotFound
from kubectl_kubefed.sync.settings import Settings, SettingsError

NS, NAME = "kube-federation-system", "kubefed-controller-manager"


class Store:
    """Objects by kind with resourceVersions (a Lease and a ConfigMap here)."""

    def __init__(self) -> None:
        self.objs: dict[str, dict[str, Any]] = {}
        self.rv = 0

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any]:
        if kind not in self.objs:
            raise NotFound(kind)
        return copy.deepcopy(self.objs[kind])

    def _store(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        self.rv += 1
        new = copy.deepcopy(dict(obj))
        new["metadata"] = {**new["metadata"], "resourceVersion": str(self.rv)}
        self.objs[str(obj["kind"])] = new
        return copy.deepcopy(new)

    def create(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        if obj["kind"] in self.objs:
            raise AlreadyExists(str(obj["kind"]))
        return self._store(obj)

    def update(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        current = self.objs[str(obj["kind"])]
        if obj["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
            raise Conflict("modified")
        return self._store(obj)

    def kubefed_holds(self, holder: str, renew: str = "2026-01-01T00:00:00Z") -> None:
        """What client-go's ConfigMapLock (KubeFed v0.10) writes when it acquires or renews."""
        record = {
            "holderIdentity": holder,
            "leaseDurationSeconds": 15,
            "acquireTime": "2026-01-01T00:00:00Z",
            "renewTime": renew,
            "leaderTransitions": 0,
        }
        cm = self.objs.get("ConfigMap") or {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": NAME, "namespace": NS},
        }
        cm = copy.deepcopy(cm)
        cm["metadata"]["annotations"] = {LEGACY_ANNOTATION: json.dumps(record)}
        self._store(cm)

    def kubefed_record(self) -> dict[str, Any]:
        return dict(json.loads(self.objs["ConfigMap"]["metadata"]["annotations"][LEGACY_ANNOTATION]))


class Clock:
    t = 0.0

    def __call__(self) -> float:
        return self.t


def elector(store: Store, clock: Clock, identity: str = "ours") -> LeaderElector:
    return LeaderElector(
        store,  # type: ignore[arg-type]
        NS,
        NAME,
        identity,
        retry_period=5.0,
        clock=clock,
        wall_clock=lambda: 1_800_000_000.0 + clock.t,
        legacy_lock="configmaps",
    )


def test_no_leading_while_a_kubefed_replica_renews_its_configmap_lock() -> None:
    store, clock = Store(), Clock()
    store.kubefed_holds("kubefed-abc")
    ours = elector(store, clock)
    for i in range(12):  # a minute: KubeFed renews every 5 s
        assert not ours.try_acquire_or_renew()
        assert ours.observed_holder == "kubefed-abc"
        clock.t += 5.0
        store.kubefed_holds("kubefed-abc", renew=f"2026-01-01T00:{i:02d}:00Z")
    assert "Lease" not in store.objs


def test_a_stopped_kubefed_replica_is_taken_over_after_its_lease_duration() -> None:
    store, clock = Store(), Clock()
    store.kubefed_holds("kubefed-abc")  # then KubeFed is stopped: no more renewals
    ours = elector(store, clock)
    assert not ours.try_acquire_or_renew()  # first sight of the record
    clock.t = 14.0
    assert not ours.try_acquire_or_renew()
    clock.t = 15.0
    assert ours.try_acquire_or_renew()
    assert store.objs["Lease"]["spec"]["holderIdentity"] == "ours"
    record = store.kubefed_record()  # KubeFed's replica now sees our live record
    assert record["holderIdentity"] == "ours"
    assert record["leaseDurationSeconds"] == 15
    assert record["leaderTransitions"] == 1
    assert record["renewTime"] == "2027-01-15T08:00:15Z"  # metav1.Time: whole seconds


def test_renewals_keep_the_kubefed_record_changing_and_release_frees_it() -> None:
    store, clock = Store(), Clock()
    ours = elector(store, clock)
    assert ours.try_acquire_or_renew()
    first = store.objs["ConfigMap"]["metadata"]["annotations"][LEGACY_ANNOTATION]
    clock.t = 5.0
    assert ours.try_acquire_or_renew()
    second = store.kubefed_record()
    assert store.objs["ConfigMap"]["metadata"]["annotations"][LEGACY_ANNOTATION] != first
    assert second["acquireTime"] == json.loads(first)["acquireTime"]
    ours.release()
    assert store.kubefed_record()["holderIdentity"] == ""
    assert store.objs["Lease"]["spec"]["holderIdentity"] == ""


def test_a_leader_loses_at_once_when_a_kubefed_replica_took_the_configmap() -> None:
    store, clock = Store(), Clock()
    ours = elector(store, clock)
    assert ours.try_acquire_or_renew()
    store.kubefed_holds("kubefed-abc")  # e.g. it raced us at start
    clock.t = 5.0
    assert not ours.try_acquire_or_renew()
    assert ours.observed_holder == "kubefed-abc"  # the renew loop stops leading on this


def test_settings_read_leader_elect_and_feature_gates() -> None:
    config = {
        "spec": {
            "leaderElect": {
                "leaseDuration": "30s",
                "renewDeadline": "20s",
                "retryPeriod": "4s",
                "resourceLock": "endpoints",
            },
            "featureGates": [
                {"name": "PushReconciler", "configuration": "Disabled"},
                {"name": "RawResourceStatusCollection", "configuration": "Enabled"},
            ],
        }
    }
    s = Settings.from_kubefed_config(config, NS)
    assert (s.lease_duration, s.renew_deadline, s.retry_period) == (30.0, 20.0, 4.0)
    assert s.resource_lock == "endpoints"
    assert not s.gate("PushReconciler") and s.gate("RawResourceStatusCollection")
    assert s.gate("SchedulerPreferences")  # KubeFed's default
    notes = " | ".join(line for _, line in s.gate_notes())
    assert "PushReconciler is Disabled" in notes
    assert "RawResourceStatusCollection is not needed" in notes
    assert "SchedulerPreferences" not in notes  # implemented, and on by default
    off = Settings.from_kubefed_config(
        {"spec": {"featureGates": [{"name": "SchedulerPreferences", "configuration": "Disabled"}]}}, NS
    )
    assert "SchedulerPreferences is Disabled" in " | ".join(line for _, line in off.gate_notes())
    default = Settings.from_kubefed_config(None, NS)
    assert (default.lease_duration, default.renew_deadline, default.retry_period) == (15.0, 10.0, 5.0)
    assert default.resource_lock == "configmaps"


@pytest.mark.parametrize(
    "spec",
    [
        {"leaderElect": {"leaseDuration": "10s", "renewDeadline": "10s"}},
        {"leaderElect": {"renewDeadline": "6s", "retryPeriod": "5s"}},  # not > 1.2 x retry
        {"leaderElect": {"resourceLock": "leases"}},
        {"leaderElect": {"retryPeriod": "soon"}},
        {"featureGates": [{"name": "Warp", "configuration": "Enabled"}]},
        {"featureGates": [{"name": "PushReconciler", "configuration": "On"}]},
        {"featureGates": {"PushReconciler": "Enabled"}},
    ],
)
def test_settings_kubefed_would_refuse_are_refused(spec: dict[str, Any]) -> None:
    with pytest.raises(SettingsError):
        Settings.from_kubefed_config({"spec": spec}, NS)


def test_the_controller_refuses_a_kubefed_config_kubefed_would_refuse() -> None:
    class Host:
        def __init__(self, spec: dict[str, Any] | None) -> None:
            self.spec = spec

        def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any]:
            if self.spec is None:
                raise NotFound(name)
            return {"spec": self.spec}

    assert _settings(Host(None), NS).retry_period == 5.0  # type: ignore[arg-type]
    assert _settings(Host({"leaderElect": {"retryPeriod": "2s"}}), NS).retry_period == 2.0  # type: ignore[arg-type]
    with pytest.raises(InputError, match="leaderElect"):
        _settings(Host({"leaderElect": {"renewDeadline": "20s"}}), NS)  # type: ignore[arg-type]


def test_an_endpoints_lock_is_respected_and_held_the_same_way() -> None:
    store, clock = Store(), Clock()
    store.kubefed_holds("kubefed-abc")
    store.objs["Endpoints"] = {**store.objs.pop("ConfigMap"), "kind": "Endpoints"}
    ours = LeaderElector(
        store,  # type: ignore[arg-type]
        NS,
        NAME,
        "ours",
        retry_period=5.0,
        clock=clock,
        legacy_lock="endpoints",
    )
    assert not ours.try_acquire_or_renew()
    clock.t = 15.0
    assert ours.try_acquire_or_renew()
    record = json.loads(store.objs["Endpoints"]["metadata"]["annotations"][LEGACY_ANNOTATION])
    assert record["holderIdentity"] == "ours"
    assert "ConfigMap" not in store.objs

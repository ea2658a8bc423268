"""Stateful property test: random host edits, member drift, flaps, faults and restarts.

After every settle (with all clusters back and faults cleared) the fleet must be
converged: exactly the desired objects where placement says, nothing managed elsewhere,
foreign objects untouched, orphans kept, a status that matches, and a second settle
that writes nothing.
"""

from __future__ import annotations

from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from tests.sim.helpers import fed_configmap, fleet, namespace

CLUSTERS = ["c1", "c2", "c3"]
NAMES = ["a", "b"]
MANAGED = "kubefed.io/managed"

placements = st.one_of(
    st.just({"clusterSelector": {}}),
    st.lists(st.sampled_from(CLUSTERS), unique=True, max_size=3).map(
        lambda cs: {"clusters": [{"name": c} for c in cs]}
    ),
    st.sampled_from(["eu", "us"]).map(lambda r: {"clusterSelector": {"matchLabels": {"region": r}}}),
)
overrides = st.dictionaries(st.sampled_from(CLUSTERS), st.sampled_from(["o1", "o2"]), max_size=2)


class FleetMachine(RuleBasedStateMachine):
    @initialize(seed=st.integers(0, 1000))
    def start(self, seed: int) -> None:
        self.f = fleet(
            seed=seed,
            clusters=[
                {"name": "c1", "labels": {"region": "eu"}},
                {"name": "c2", "labels": {"region": "us"}},
                {"name": "c3", "labels": {"region": "eu"}},
            ],
        )
        self.f.apply(
            [
                namespace("shop"),
                {
                    "apiVersion": "types.kubefed.io/v1beta1",
                    "kind": "FederatedNamespace",
                    "metadata": {"name": "shop", "namespace": "shop"},
                    "spec": {"placement": {"clusterSelector": {}}},
                },
            ]
        )
        assert self.f.settle()
        self.desired: dict[str, dict[str, Any]] = {}  # name -> {value, placement, overrides}
        self.orphaned: dict[tuple[str, str], str] = {}  # (cluster, name) -> value left behind
        self.foreign: dict[str, str] = {}  # cluster -> resourceVersion of an unmanaged object

    # -- host edits ---------------------------------------------------------------

    @rule(
        name=st.sampled_from(NAMES),
        value=st.sampled_from(["v1", "v2", "v3"]),
        placement=placements,
        ovr=overrides,
    )
    def apply(self, name: str, value: str, placement: dict[str, Any], ovr: dict[str, str]) -> None:
        ops = [
            {"clusterName": c, "clusterOverrides": [{"path": "/data/v", "value": v}]} for c, v in ovr.items()
        ]
        self.f.apply([fed_configmap(name=name, data={"v": value}, placement=placement, overrides=ops)])
        self.desired[name] = {"value": value, "placement": placement, "overrides": ovr}
        for key in [k for k in self.orphaned if k[1] == name]:
            del self.orphaned[key]  # a new federated object adopts what was left behind

    @rule(name=st.sampled_from(NAMES), orphan=st.booleans())
    def delete(self, name: str, orphan: bool) -> None:
        if name not in self.desired:
            return
        self.converge()  # deletion semantics are checked from a converged state
        if orphan:
            obj = self.f.host_server.get("types.kubefed.io/v1beta1", "FederatedConfigMap", "shop", name)
            obj["metadata"]["annotations"] = {"kubefed.io/orphan": "true"}
            self.f.host_server.update(obj)
            for c in self.selected(name):
                self.orphaned[(c, name)] = self.value_for(name, c)
        self.f.delete("types.kubefed.io/v1beta1", "FederatedConfigMap", "shop", name)
        del self.desired[name]

    # -- the world misbehaving ----------------------------------------------------

    @rule(cluster=st.sampled_from(CLUSTERS), name=st.sampled_from(NAMES), remove=st.booleans())
    def drift(self, cluster: str, name: str, remove: bool) -> None:
        server = self.f.servers[cluster]
        try:
            obj = server.get("v1", "ConfigMap", "shop", name)
        except Exception:
            return
        if (obj["metadata"].get("labels") or {}).get(MANAGED) != "true":
            return
        if remove:
            server.delete("v1", "ConfigMap", "shop", name)
        else:
            obj["data"] = {"v": "drifted"}
            server.update(obj)

    @rule(cluster=st.sampled_from(CLUSTERS))
    def foreign_object(self, cluster: str) -> None:
        if cluster in self.foreign:
            return
        created = self.f.servers[cluster].create(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "foreign", "namespace": "shop"},
                "data": {"mine": "yes"},
            }
        )
        self.foreign[cluster] = created["metadata"]["resourceVersion"]

    @rule(cluster=st.sampled_from(CLUSTERS), ready=st.booleans())
    def flap(self, cluster: str, ready: bool) -> None:
        self.f.set_ready(cluster, ready)
        self.f.advance(10)

    @rule(
        cluster=st.sampled_from(CLUSTERS),
        verb=st.sampled_from(["create", "update", "delete", "list"]),
        rate=st.sampled_from([0.3, 1.0]),
    )
    def faults(self, cluster: str, verb: str, rate: float) -> None:
        self.f.set_faults(cluster, error_rate=rate, verbs=[verb])
        self.f.advance(15)

    @rule()
    def restart(self) -> None:
        self.f.restart_controllers()

    @rule()
    def settle(self) -> None:
        self.converge()

    # -- expectations ---------------------------------------------------------------

    def selected(self, name: str) -> set[str]:
        placement = self.desired[name]["placement"]
        if "clusters" in placement:
            return {c["name"] for c in placement["clusters"]}
        labels = placement["clusterSelector"].get("matchLabels", {})
        regions = {"c1": "eu", "c2": "us", "c3": "eu"}
        return {c for c in CLUSTERS if all(regions[c] == v for v in labels.values())}

    def value_for(self, name: str, cluster: str) -> str:
        return str(self.desired[name]["overrides"].get(cluster, self.desired[name]["value"]))

    def converge(self) -> None:
        for c in CLUSTERS:
            self.f.set_faults(c, error_rate=0)
            self.f.set_ready(c, True)
        assert self.f.settle(max_seconds=900), "the fleet did not settle"

    @invariant()
    def converged_after_settle(self) -> None:
        if not hasattr(self, "f"):
            return
        self.converge()
        for cluster in CLUSTERS:
            server = self.f.servers[cluster]
            for name in NAMES:
                try:
                    obj = server.get("v1", "ConfigMap", "shop", name)
                except Exception:
                    obj = None
                managed = obj is not None and (obj["metadata"].get("labels") or {}).get(MANAGED) == "true"
                if name in self.desired and cluster in self.selected(name):
                    assert managed, f"{name} missing or unmanaged in {cluster}"
                    assert obj is not None and obj["data"] == {"v": self.value_for(name, cluster)}
                else:
                    assert not managed, f"{name} still managed in unselected {cluster}"
                    if (cluster, name) in self.orphaned:
                        assert obj is not None, f"orphaned {name} was deleted from {cluster}"
            if cluster in self.foreign:
                foreign = server.get("v1", "ConfigMap", "shop", "foreign")
                assert foreign["metadata"]["resourceVersion"] == self.foreign[cluster]
        for name in self.desired:
            fed = self.f.host_server.get("types.kubefed.io/v1beta1", "FederatedConfigMap", "shop", name)
            status = fed.get("status") or {}
            assert {c["name"] for c in status.get("clusters", [])} == self.selected(name)
            assert all(not c.get("status") for c in status.get("clusters", []))
            assert status["conditions"][0]["status"] == "True"
            assert status["observedGeneration"] == fed["metadata"]["generation"]
        writes = self.f.write_requests()
        self.f.advance(120)
        assert self.f.settle()
        assert self.f.write_requests() == writes, "a settled fleet kept writing"


TestFleet = FleetMachine.TestCase
TestFleet.settings = settings(max_examples=150, stateful_step_count=20, deadline=None)

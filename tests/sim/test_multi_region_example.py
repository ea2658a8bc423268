"""examples/multi-region (issue 15): the FederatedApplication demo that ``make demo`` runs.
The commands are taken from the Makefile's demo recipe and run as a user runs them; the
tests check what the demo's step names claim: the weighted spread, the asia image in asia
only, replicas leaving the down region only after ``failover.tolerationSeconds``, and the
rebalance when it is back, with the application's status along the way."""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest

from kubectl_kubefed import manifests
from kubectl_kubefed.core import application as ap
from simulator import scenario as sc
from tests.conftest import ROOT, run_cli

EXAMPLE = ROOT / "examples/multi-region"
SCENARIO = EXAMPLE / "scenario.yaml"
CLUSTERS = ("asia-1", "eu-1", "us-1")


def demo_commands() -> list[list[str]]:
    """The ``make demo`` recipe's kubectl-kubefed commands for this example (arguments only)."""
    text = (ROOT / "Makefile").read_text()
    recipe = text[text.index("\ndemo:") :].split("\n\n", 1)[0].splitlines()[1:]
    commands = [shlex.split(line.strip()) for line in recipe if "examples/multi-region" in line]
    commands = [c for c in commands if c and c[0] == "$(BIN)/kubectl-kubefed"]
    return [c[1:] for c in commands]


@pytest.fixture(scope="module")
def states() -> list[dict[str, Any]]:
    """The state after every step, from the Makefile's simulate command with -o json."""
    simulate = next(c for c in demo_commands() if c[0] == "simulate")
    res = run_cli(*simulate, "-o", "json", "--every-step")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert isinstance(out, list)
    return out


def app_doc() -> dict[str, Any]:
    docs = [d.obj for d in manifests.load_files([str(EXAMPLE / "app.yaml")])]
    return next(d for d in docs if d["kind"] == ap.KIND)


def deployment(state: dict[str, Any], cluster: str) -> dict[str, Any]:
    return next(
        o
        for o in state["clusters"][cluster]["objects"]
        if o["kind"] == "Deployment" and o["metadata"]["name"] == "web"
    )


def replicas(state: dict[str, Any]) -> dict[str, int]:
    return {c: deployment(state, c)["spec"]["replicas"] for c in CLUSTERS}


def status(state: dict[str, Any]) -> dict[str, Any]:
    [app] = state["applications"]
    assert (app["namespace"], app["name"]) == ("shop", "shop")
    return dict(app["status"])


def conditions(state: dict[str, Any]) -> dict[str, str]:
    return {c["type"]: c["status"] for c in status(state)["conditions"]}


def rows(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in status(state)["clusters"]}


def test_make_demo_runs_the_scenario_and_the_offline_render() -> None:
    commands = demo_commands()
    assert [c[:2] for c in commands] == [
        ["simulate", "examples/multi-region/scenario.yaml"],
        ["app", "render"],
    ]
    for command in commands:
        res = run_cli(*command)
        assert res.returncode == 0, (command, res.stderr)
        assert res.stderr == ""


def test_the_steps_are_the_ones_the_demo_describes(states: list[dict[str, Any]]) -> None:
    steps = sc.load(str(SCENARIO)).steps
    assert [s.action for s in steps] == ["apply", "cluster", "advance", "advance", "cluster"]
    assert len(states) == len(steps)
    assert [s["virtualSeconds"] for s in states] == [20.0, 20.0, 55.0, 90.0, 113.0]
    assert all(s["settled"] for i, s in enumerate(states) if steps[i].settle)


def test_replicas_spread_by_weight_and_the_asia_image_only_in_asia(states: list[dict[str, Any]]) -> None:
    applied = states[0]
    assert replicas(applied) == {"asia-1": 2, "eu-1": 4, "us-1": 2}  # 8, eu-1 weight 2
    images = {
        c: deployment(applied, c)["spec"]["template"]["spec"]["containers"][0]["image"] for c in CLUSTERS
    }
    assert images == {"asia-1": "nginx:1.25-asia", "eu-1": "nginx:1.25", "us-1": "nginx:1.25"}
    for cluster in CLUSTERS:
        kinds = {
            o["kind"]
            for o in applied["clusters"][cluster]["objects"]
            if o["metadata"].get("namespace") == "shop"
        }
        assert {"Deployment", "Service", "ConfigMap"} <= kinds
    assert status(applied)["summary"] == "3/3 clusters ready"
    assert conditions(applied) == {"Ready": "True", "Progressing": "False", "Degraded": "False"}
    assert {c: (r["readyReplicas"], r["desiredReplicas"], r["ready"]) for c, r in rows(applied).items()} == {
        "asia-1": (2, 2, True),
        "eu-1": (4, 4, True),
        "us-1": (2, 2, True),
    }


def test_replicas_stay_until_the_toleration_has_passed(states: list[dict[str, Any]]) -> None:
    down, waiting, moved = states[1], states[2], states[3]
    assert down["clusters"]["eu-1"]["ready"] is True  # the health probe has not noticed yet
    assert waiting["clusters"]["eu-1"]["ready"] is False
    assert replicas(waiting) == {"asia-1": 2, "eu-1": 4, "us-1": 2}
    # The status follows the health check at once, not the objects' next reconcile.
    assert status(waiting)["summary"] == "2/3 clusters ready"
    assert rows(waiting)["eu-1"]["problems"] == ["ClusterNotReady"]
    assert moved["clusters"]["eu-1"]["ready"] is False
    others = {c: deployment(moved, c)["spec"]["replicas"] for c in ("asia-1", "us-1")}
    assert others == {"asia-1": 4, "us-1": 4}
    assert all(deployment(moved, c).get("status", {}).get("readyReplicas") == 4 for c in ("asia-1", "us-1"))
    assert status(moved)["summary"] == "2/3 clusters ready"
    assert conditions(moved)["Ready"] == "False"
    assert rows(moved)["eu-1"]["ready"] is False
    assert (rows(moved)["us-1"]["desiredReplicas"], rows(moved)["asia-1"]["desiredReplicas"]) == (4, 4)


def test_the_returning_region_gets_its_share_back(states: list[dict[str, Any]]) -> None:
    back = states[4]
    assert all(back["clusters"][c]["ready"] for c in CLUSTERS)
    assert replicas(back) == {"asia-1": 2, "eu-1": 4, "us-1": 2}
    assert status(back)["summary"] == "3/3 clusters ready"
    assert conditions(back) == {"Ready": "True", "Progressing": "False", "Degraded": "False"}
    assert all(r["ready"] and r["readyReplicas"] == r["desiredReplicas"] for r in rows(back).values())


def test_the_move_comes_exactly_when_the_toleration_says() -> None:
    """Second by second after eu-1 goes down: nothing moves before it has been NotReady for
    tolerationSeconds (plus KubeFed's 3 s delay), and the scenario's steps straddle that."""
    toleration = app_doc()["spec"]["failover"]["tolerationSeconds"]
    scenario = sc.load(str(SCENARIO))
    fleet = sc.start(scenario)
    assert fleet.settle(scenario.settle_timeout)
    for step in scenario.steps[:2]:  # apply, eu-1 down
        sc.run_step(fleet, step, scenario.settle_timeout)
    not_ready = moved = None
    while moved is None and fleet.clock.elapsed < 200:
        fleet.advance(1.0)
        if not_ready is None and not fleet.ready("eu-1"):
            not_ready = fleet.clock.elapsed
        dep = fleet.member_object("us-1", "apps/v1", "Deployment", "shop", "web")
        if dep is not None and dep["spec"]["replicas"] != 2:
            moved = fleet.clock.elapsed
    assert not_ready is not None and moved is not None
    assert moved - not_ready == toleration + 3
    advances = [s.value for s in scenario.steps if s.action == "advance"]
    assert 20.0 + advances[0] < moved <= 20.0 + sum(advances)


def test_the_table_says_where_replicas_are() -> None:
    res = run_cli("simulate", str(SCENARIO))
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "eu-1: created Deployment shop/web (replicas 4), ConfigMap shop/web-config" in out
    assert "us-1: updated Deployment shop/web (replicas 2 -> 4)" in out
    assert "asia-1: updated Deployment shop/web (replicas 4 -> 2)" in out
    assert "eu-1: NOT READY" in out and "eu-1: ready again" in out
    assert (
        "FederatedApplication shop/shop: Ready=False Progressing=True Degraded=False; 2/3 clusters ready"
        in out
    )
    assert out.count("FederatedApplication shop/shop: Ready=True") == 3  # not while eu-1 is down

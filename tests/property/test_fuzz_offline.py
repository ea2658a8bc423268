"""Fuzzing every offline entry point with hostile but plausible manifests.

Valid Kubernetes objects are mutated (a wrong type at any field, hostile names, control
characters, huge numbers, deep nesting, empty documents) and fed to ``federate -f``,
``render -f`` (also with ``--output-dir``), ``enable -f``, ``simulate`` and the Helm
post-renderer. Whatever the input, the outcome is either exit 0 with parseable output,
or exit 2 with exactly one error line naming the file or document; never a traceback,
a hang or unbounded memory.

Most examples run the entry points in-process (fast); a small sample runs the installed
executables under a 1 GB address-space limit.
"""

from __future__ import annotations

import copy
import json
import os
import resource
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_kubefed import postrender
from kubectl_kubefed.api.validation import is_control
from tests.conftest import BIN, ROOT
from tests.inprocess import WALL_SECONDS, kubectl, run_inprocess

MEMORY_BYTES = 1 << 30
# Kept small so that the file runs in well under a minute; KUBEFED_FUZZ_EXAMPLES=2000 for a campaign.
EXAMPLES = int(os.environ.get("KUBEFED_FUZZ_EXAMPLES", "40"))

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "web",
        "namespace": "shop",
        "labels": {"app": "web"},
        "annotations": {"kubefed.io/clusters": "c1"},
    },
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]},
        },
    },
}
SERVICE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"clusterIP": "10.0.0.1", "ports": [{"port": 80, "nodePort": 30080}]},
}
CONFIGMAP: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "conf", "namespace": "shop"},
    "data": {"a": "b"},
}
CLUSTERROLE: dict[str, Any] = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "ClusterRole",
    "metadata": {"name": "system:reader"},
    "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
}
NAMESPACE: dict[str, Any] = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
SOURCES = [DEPLOYMENT, SERVICE, CONFIGMAP, CLUSTERROLE, NAMESPACE]


def _cluster(name: str, region: str) -> dict[str, Any]:
    return {
        "apiVersion": "core.kubefed.io/v1beta1",
        "kind": "KubeFedCluster",
        "metadata": {"name": name, "namespace": "kube-federation-system", "labels": {"region": region}},
        "spec": {"apiEndpoint": f"https://{name}.example.com", "secretRef": {"name": f"{name}-secret"}},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


FEDERATED_NAMESPACE: dict[str, Any] = {
    "apiVersion": "types.kubefed.io/v1beta1",
    "kind": "FederatedNamespace",
    "metadata": {"name": "shop", "namespace": "shop"},
    "spec": {"placement": {"clusterSelector": {}}},
}
FEDERATED_DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "types.kubefed.io/v1beta1",
    "kind": "FederatedDeployment",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {
        "template": {k: v for k, v in DEPLOYMENT.items() if k not in ("apiVersion", "kind", "metadata")},
        "placement": {"clusters": [{"name": "c1"}, {"name": "c2"}]},
        "overrides": [{"clusterName": "c2", "clusterOverrides": [{"path": "/spec/replicas", "value": 5}]}],
    },
}
FEDERATED_CONFIGMAP: dict[str, Any] = {
    "apiVersion": "types.kubefed.io/v1beta1",
    "kind": "FederatedConfigMap",
    "metadata": {"name": "conf", "namespace": "shop"},
    "spec": {
        "template": {"data": {"a": "b"}},
        "placement": {"clusterSelector": {"matchLabels": {"region": "eu"}}},
    },
}
FTC: dict[str, Any] = {
    "apiVersion": "core.kubefed.io/v1beta1",
    "kind": "FederatedTypeConfig",
    "metadata": {"name": "widgets.example.com", "namespace": "kube-federation-system"},
    "spec": {
        "targetType": {"group": "example.com", "version": "v1", "kind": "Widget", "pluralName": "widgets"},
        "federatedType": {"group": "types.kubefed.io", "version": "v1beta1", "kind": "FederatedWidget"},
        "propagation": "Enabled",
    },
}
RENDER_INPUT = [
    _cluster("c1", "eu"),
    _cluster("c2", "us"),
    {"apiVersion": "core.kubefed.io/v1beta1", "kind": "KubeFedConfig", "spec": {"scope": "Cluster"}},
    NAMESPACE,
    FEDERATED_NAMESPACE,
    FEDERATED_DEPLOYMENT,
    FEDERATED_CONFIGMAP,
    FTC,
]
CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"kind": "Widget", "plural": "widgets", "shortNames": ["wd"]},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "properties": {"spec": {"properties": {"replicas": {"type": "integer"}}}}
                    }
                },
            }
        ],
    },
}
DIRECTIVE: dict[str, Any] = {
    "apiVersion": "core.kubefed.io/v1beta1",
    "kind": "EnableTypeDirective",
    "metadata": {"name": "deployments.apps"},
    "spec": {"targetVersion": "v1", "federatedGroup": "types.kubefed.io", "federatedVersion": "v1beta1"},
}
SCENARIO: dict[str, Any] = {
    "clusters": [{"name": "c1", "labels": {"region": "eu"}}, {"name": "c2"}],
    "hostIsMember": "c1",
    "kubefedConfig": {"scope": "Cluster", "adoptResources": "Enabled"},
    "settleTimeout": "2m",
    "members": {"c2": [NAMESPACE, CONFIGMAP]},
    "steps": [
        {"apply": [NAMESPACE, FEDERATED_NAMESPACE, FEDERATED_CONFIGMAP]},
        {"memberApply": {"cluster": "c2", "objects": [SERVICE]}},
        {
            "memberDelete": {
                "cluster": "c2",
                "apiVersion": "v1",
                "kind": "Service",
                "namespace": "shop",
                "name": "web",
            }
        },
        {"cluster": {"name": "c2", "ready": False, "labels": {"region": "us"}}},
        {"faults": {"cluster": "c1", "errorRate": 0.5, "verbs": ["create"], "latency": "1s"}},
        {"advance": "30s", "settle": False, "name": "wait"},
        {
            "delete": {
                "apiVersion": "types.kubefed.io/v1beta1",
                "kind": "FederatedConfigMap",
                "namespace": "shop",
                "name": "conf",
            }
        },
    ],
}

# -- hostile values ---------------------------------------------------------------------

HOSTILE_STRINGS = [
    "",
    ".",
    "..",
    "../../x",
    "../../x Y",
    "/abs/path",
    "../kube-system",
    "a/b",
    "system:node",
    "UPPER",
    "-lead",
    "trail-",
    "a" * 300,
    "x\x1b[31mred\x1b[0m",
    "bell\x07",
    "line\nbreak",
    "tab\there",
    "nul\x00byte",
    "\u202ertl",
    "名前",
    "%2e%2e",
    "*",
    "True",
    "1e400",
    "0x10",
    "{}",
    "- a",
]
hostile_strings = st.one_of(st.sampled_from(HOSTILE_STRINGS), st.text(max_size=12))
hostile_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**40), 10**40),
    st.sampled_from([0, -1, 2**63, -(2**63) - 1, 10**100]),
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_strings,
)


def _nest(depth: int, leaf: Any, as_list: bool) -> Any:
    for _ in range(depth):
        leaf = [leaf] if as_list else {"a": leaf}
    return leaf


hostile_values = st.one_of(
    hostile_scalars,
    st.lists(hostile_scalars, max_size=3),
    st.dictionaries(hostile_strings, hostile_scalars, max_size=3),
    st.builds(_nest, st.integers(1, 60), hostile_scalars, st.booleans()),
)

Path_ = tuple[Any, ...]


def _paths(value: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _set(root: Any, path: Path_, value: Any, delete: bool) -> Any:
    if not path:
        return value
    parent = root
    for key in path[:-1]:
        parent = parent[key]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return root


@st.composite
def mutated(draw: st.DrawFn, seed: Any, max_mutations: int = 3) -> Any:
    """``seed`` with one to ``max_mutations`` fields replaced, deleted or added."""
    value = copy.deepcopy(seed)
    for _ in range(draw(st.integers(1, max_mutations))):
        paths = list(_paths(value))
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if op == "delete" and path:
            value = _set(value, path, None, delete=True)
        elif op == "add":
            target = value
            for key in path:
                target = target[key]
            if isinstance(target, dict):
                target[draw(hostile_strings)] = draw(hostile_values)
            elif isinstance(target, list):
                target.append(draw(hostile_values))
            else:
                value = _set(value, path, draw(hostile_values), delete=False)
        else:
            value = _set(value, path, draw(hostile_values), delete=False)
    return value


def _dump(docs: list[Any], as_json: bool) -> str:
    if as_json:
        return json.dumps(docs if len(docs) != 1 else docs[0])
    return yaml.safe_dump_all(docs, allow_unicode=True, explicit_start=True)


@st.composite
def streams(draw: st.DrawFn, seeds: list[dict[str, Any]]) -> str:
    """A stream of documents: some seeds as they are, some mutated, some empty."""
    docs: list[Any] = []
    for seed in draw(st.lists(st.sampled_from(seeds), min_size=1, max_size=5)):
        kind = draw(st.sampled_from(["valid", "mutated", "mutated", "empty"]))
        docs.append(None if kind == "empty" else seed if kind == "valid" else draw(mutated(seed)))
    as_json = draw(st.booleans()) and None not in docs
    return _dump(docs, as_json)


# -- running entry points -----------------------------------------------------------------


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def run_subprocess(exe: str, argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    res = subprocess.run(
        [str(BIN / exe), *argv],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=WALL_SECONDS * 3,
        preexec_fn=_limit_memory,
        cwd=ROOT,
    )
    return res.returncode, res.stdout, res.stderr


POST_RENDERER = "kubefed-post-renderer: "


def check_outcome(
    result: tuple[int, str, str], names: tuple[str, ...], output: str, out_dir: Path | None = None
) -> None:
    """Exit 0 with parseable output, or exit 2 with one error line naming the input."""
    code, stdout, stderr = result
    assert "Traceback" not in stderr, stderr
    problems = [
        ln for ln in stderr.splitlines() if not ln.removeprefix(POST_RENDERER).startswith("warning: ")
    ]
    if code == 0:
        assert not problems or problems == ["warning: some step did not settle within the bound"], stderr
        if out_dir is not None:
            for path in out_dir.iterdir():
                assert path.parent == out_dir and path.suffix == ".yaml", path
                list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        elif output == "json":
            json.loads(stdout)
        elif output == "yaml":
            list(yaml.safe_load_all(stdout))
        return
    assert code == 2, (code, stderr)
    assert len(problems) == 1, stderr
    assert any(name in problems[0] for name in names), stderr
    assert not any(is_control(c) for c in problems[0]), problems[0]
    if out_dir is not None:
        assert not out_dir.exists() or not any(out_dir.iterdir()), list(out_dir.iterdir())


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="kubefed-fuzz-") as tmp:
        yield Path(tmp)


@FUZZ
@given(text=streams(SOURCES), output=st.sampled_from(["yaml", "json"]), placement=st.booleans())
def test_federate(workdir: Path, text: str, output: str, placement: bool) -> None:
    path = workdir / "in.yaml"
    path.write_text(text, encoding="utf-8")
    extra = ["--clusters", "c1,c2"] if placement else []
    check_outcome(kubectl("federate", "-f", str(path), "-o", output, *extra), (str(path),), output)


@FUZZ
@given(text=streams(RENDER_INPUT), output=st.sampled_from(["yaml", "json", "text"]))
def test_render(workdir: Path, text: str, output: str) -> None:
    check_outcome(kubectl("render", "-f", "-", "-o", output, stdin=text), ("<stdin>",), output)


@FUZZ
@given(text=streams(RENDER_INPUT))
def test_render_output_dir(workdir: Path, text: str) -> None:
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        out = Path(tmp) / "out"
        result = kubectl("render", "-f", "-", "--output-dir", str(out), stdin=text)
        check_outcome(result, ("<stdin>",), "text", out)
        inside = {p.resolve() for p in Path(tmp).rglob("*")}
        assert all(p == out.resolve() or p.parent == out.resolve() for p in inside), inside


@FUZZ
@given(doc=st.one_of(mutated(CRD), mutated(DIRECTIVE)), output=st.sampled_from(["yaml", "json"]))
def test_enable(workdir: Path, doc: Any, output: str) -> None:
    path = workdir / "crd.yaml"
    path.write_text(_dump([doc], as_json=False), encoding="utf-8")
    check_outcome(kubectl("enable", "-f", str(path), "-o", output), (str(path),), output)


@settings(FUZZ, max_examples=max(EXAMPLES * 5 // 8, 1))
@given(scenario=mutated(SCENARIO, max_mutations=2))
def test_simulate(workdir: Path, scenario: Any) -> None:
    path = workdir / "scenario.yaml"
    path.write_text(_dump([scenario], as_json=False), encoding="utf-8")
    check_outcome(kubectl("simulate", str(path), "-o", "json"), (str(path),), "json")


@FUZZ
@given(text=streams(SOURCES), output=st.sampled_from(["yaml", "json"]))
def test_post_renderer(text: str, output: str) -> None:
    result = run_inprocess(postrender.main, ["--format", output, "--namespace", "shop"], stdin=text)
    check_outcome(result, ("<stdin>",), "yaml")  # --format json: a stream of JSON documents


# -- a small sample through the installed executables, memory bounded ------------------------


@settings(FUZZ, max_examples=4)
@given(text=streams([*SOURCES, *RENDER_INPUT]))
def test_executables_under_memory_limit(text: str) -> None:
    check_outcome(
        run_subprocess("kubectl-kubefed", ["federate", "-f", "-", "-o", "json"], stdin=text),
        ("<stdin>",),
        "json",
    )
    check_outcome(run_subprocess("kubefed-post-renderer", [], stdin=text), ("<stdin>",), "yaml")


HOSTILE_TEXTS = [
    "",
    "---\n---\n",
    "\x1b]0;pwned\x07",
    "kind: [\n",
    "[" * 200 + "]" * 200,
    "a: &a [x]\nb: [*a, *a, *a]\n",
    json.dumps(_nest(500, "x", as_list=False)),
]


@pytest.mark.parametrize(("index", "text"), list(enumerate(HOSTILE_TEXTS)))
def test_hostile_texts_in_a_subprocess(index: int, text: str) -> None:
    if index % 2:
        result = run_subprocess("kubectl-kubefed", ["render", "-f", "-", "-o", "json"], stdin=text)
        check_outcome(result, ("<stdin>",), "json")
    else:
        check_outcome(run_subprocess("kubefed-post-renderer", [], stdin=text), ("<stdin>",), "yaml")


# -- exhaustive: a wrong type at every field of every seed -----------------------------------

WRONG_TYPES: list[Any] = [5, "abc", [1], {"x": 1}, None]


def _every_wrong_type(seed: Any, max_depth: int = 99, every: int = 1) -> Iterator[Any]:
    """``seed`` with one field replaced: every field (to ``max_depth``), wrong types in turn;
    with ``every=N`` each field gets every N-th of them (the others are left to hypothesis)."""
    paths = [p for p in _paths(seed) if 0 < len(p) <= max_depth]
    for index, path in enumerate(paths):
        for wrong in WRONG_TYPES[index % every :: every]:
            yield _set(copy.deepcopy(seed), path, wrong, delete=False)


def test_wrong_type_at_every_field_federate_and_post_renderer() -> None:
    for seed in SOURCES:
        for doc in _every_wrong_type(seed, every=2):
            text = _dump([doc], as_json=False)
            check_outcome(kubectl("federate", "-f", "-", stdin=text), ("<stdin>",), "yaml")
            check_outcome(run_inprocess(postrender.main, [], stdin=text), ("<stdin>",), "yaml")


def test_wrong_type_at_every_field_render() -> None:
    for index, seed in enumerate(RENDER_INPUT):
        for doc in _every_wrong_type(seed, every=2):
            docs = [*RENDER_INPUT[:index], doc, *RENDER_INPUT[index + 1 :]]
            check_outcome(
                kubectl("render", "-f", "-", "-o", "json", stdin=_dump(docs, False)), ("<stdin>",), "json"
            )


def test_wrong_type_at_every_field_enable(workdir: Path) -> None:
    path = workdir / "crd.yaml"
    for seed in (CRD, DIRECTIVE):
        for doc in _every_wrong_type(seed, every=2):
            path.write_text(_dump([doc], as_json=False), encoding="utf-8")
            check_outcome(kubectl("enable", "-f", str(path), "-o", "json"), (str(path),), "json")


def test_wrong_type_at_every_field_simulate(workdir: Path) -> None:
    """Only the scenario's own fields (objects inside are covered above): each run is costly."""
    path = workdir / "scenario.yaml"
    for doc in _every_wrong_type(SCENARIO, max_depth=4, every=len(WRONG_TYPES)):
        path.write_text(_dump([doc], as_json=False), encoding="utf-8")
        check_outcome(kubectl("simulate", str(path), "-o", "json"), (str(path),), "json")

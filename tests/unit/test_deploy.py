"""The deployment artefacts: the Dockerfile (no Docker engine here, so its properties are
checked by reading it) and the chart's generated API part (never drifts from init)."""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path
from types import ModuleType

import yaml

from kubectl_kubefed.kube.controlplane import init_objects
from tests.conftest import ROOT


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def _dockerfile() -> list[tuple[str, str]]:
    return _instructions((ROOT / "Dockerfile").read_text())


def test_instruction_parser() -> None:
    assert _instructions("# c\nFROM a AS b\nRUN x \\\n  y\n") == [("FROM", "a AS b"), ("RUN", "x  y")]


def test_dockerfile_is_multi_stage_on_python_slim() -> None:
    froms = [args for word, args in _dockerfile() if word == "FROM"]
    assert len(froms) >= 2
    assert all(args.split()[0] == "python:3.11-slim" for args in froms)
    stages = [args.split()[-1] for args in froms[:-1]]
    copied = [args for word, args in _dockerfile() if word == "COPY" and args.startswith("--from=")]
    assert copied and all(c.split()[0].removeprefix("--from=") in stages for c in copied)


def test_dockerfile_runs_as_a_numeric_non_root_user() -> None:
    final = _final_stage()
    users = [args for word, args in final if word == "USER"]
    assert users, "the final stage sets no USER"
    user, _, group = users[-1].partition(":")
    assert user.isdigit() and int(user) != 0
    assert not group or (group.isdigit() and int(group) != 0)
    # nothing runs as root after USER
    after = final[[w for w, _ in final].index("USER") :]
    assert not [a for w, a in after if w == "RUN"]


def test_dockerfile_fetches_nothing_remote_with_add() -> None:
    for word, args in _dockerfile():
        if word == "ADD":
            assert not re.search(r"(https?|git)://|git@", args), args


def test_dockerfile_suits_a_read_only_root_filesystem() -> None:
    final = _final_stage()
    env = " ".join(args for word, args in final if word == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env  # no __pycache__ written at run time
    assert "HOME=/tmp" in env  # the kubernetes client's temporary files
    workdir = [args for word, args in final if word == "WORKDIR"]
    assert workdir and workdir[-1] == "/tmp"
    entry = [args for word, args in final if word == "ENTRYPOINT"]
    assert entry and shlex.split(entry[-1].strip("[]").replace(",", " "))[0].strip('"') == "kubectl-kubefed"


def _final_stage() -> list[tuple[str, str]]:
    instructions = _dockerfile()
    last = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return instructions[last:]


# -- the chart's API part ----------------------------------------------------------------------


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_chart_crds", ROOT / "hack" / "gen-chart-crds.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_chart_api_is_what_init_installs() -> None:
    for path, text in _generator().render().items():
        assert Path(path).read_text() == text, f"{path} is stale: run hack/gen-chart-crds.py"


def test_chart_crds_are_inits_crds() -> None:
    chart = [d for d in yaml.safe_load_all((ROOT / "charts/kubefed/crds/kubefed.yaml").read_text()) if d]
    wanted = [o for o in init_objects("x", "Cluster") if o["kind"] == "CustomResourceDefinition"]
    assert chart == wanted
    names = {d["metadata"]["name"] for d in chart}
    assert {"kubefedclusters.core.kubefed.io", "federateddeployments.types.kubefed.io"} <= names


def test_the_check_mode_reports_drift(tmp_path: Path) -> None:
    gen = _generator()
    gen.CHART = tmp_path / "kubefed"
    rendered = gen.render()
    assert all(str(p).startswith(str(tmp_path)) for p in rendered)
    assert gen.main(["--check"]) == 1  # nothing written there yet
    assert gen.main([]) == 0 and gen.main(["--check"]) == 0

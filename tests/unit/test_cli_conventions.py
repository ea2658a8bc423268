"""The CLI as kubectl users expect it: --context, --dry-run=none|client|server, one -o
check, exit code 1 for a failing cluster and 2 for bad input, one-line parsing errors,
help without Python types, shell completion."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from kubectl_kubefed.cli import main as cli_main
from tests.conftest import BIN
from tests.inprocess import run_inprocess

ONLINE = [
    "init",
    "join",
    "unjoin",
    "enable",
    "disable",
    "federate",
    "orphaning-deletion",
    "status",
    "clusters",
]
WRITERS = ["init", "join", "unjoin", "enable", "disable", "orphaning-deletion", "federate"]
COMMANDS = [
    *ONLINE,
    "render",
    "simulate",
    "plan",
    "controller",
    "agent",
    "version",
    "completion",
    "app",
    "app render",
    "app federate",
    "app status",
]


def run(*argv: str) -> tuple[int, str, str]:
    return run_inprocess(cli_main.main, list(argv))


def one_line(code: int, err: str, want_code: int, text: str) -> None:
    assert code == want_code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and text in lines[0], err


@pytest.fixture
def unreachable(tmp_path: Path) -> str:
    """A kubeconfig whose only context points at a closed port."""
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: ctx\n"
        "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: ctx, context: {cluster: c, user: u}}]\n"
    )
    return str(path)


# -- help ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", COMMANDS)
def test_help_shows_no_python_types(name: str) -> None:
    code, out, _ = run(*name.split(), "--help")
    assert code == 0
    assert not re.search(r"<(str|int|float|bool|list\[[^>]*\]|[a-z]+(\|[a-z]+)+)>", out), out
    assert "[[" not in out and "{" not in out.splitlines()[0], out


def test_no_arguments_print_the_help() -> None:
    code, out, _ = run()
    assert code == 0 and "Commands:" in out


# -- --context ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*ONLINE, "controller"])
def test_every_online_command_takes_context(name: str) -> None:
    _, out, _ = run(name, "--help")
    assert "--context, --host-cluster-context CONTEXT" in out


@pytest.mark.parametrize("flag", ["--context", "--host-cluster-context"])
def test_context_names_the_host_context(unreachable: str, flag: str) -> None:
    code, _, err = run("clusters", "--kubeconfig", unreachable, flag, "nope")
    one_line(code, err, 2, 'context "nope" does not exist')


# -- exit codes -----------------------------------------------------------------------------


def test_an_unreachable_cluster_is_exit_code_1(unreachable: str) -> None:
    code, _, err = run("status", "--all", "--kubeconfig", unreachable)
    one_line(code, err, 1, "cannot reach the host cluster (context ctx)")


def test_an_unreachable_host_stops_the_controller_with_exit_code_1(unreachable: str) -> None:
    code, _, err = run("controller", "--kubeconfig", unreachable, "--metrics-bind-address", "127.0.0.1:0")
    one_line(code, err, 1, "cannot reach the host cluster")


def test_an_unknown_events_setting_stops_the_controller_before_it_reaches_the_host(unreachable: str) -> None:
    code, _, err = run(
        "controller", "--kubeconfig", unreachable, "--metrics-bind-address", "127.0.0.1:0", "--events", "some"
    )
    one_line(code, err, 2, "--events: 'some' is not one of all, changes, warnings")


def test_an_api_error_is_exit_code_1(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubectl_kubefed.cli import online
    from kubectl_kubefed.sync.errors import Unauthorized

    def refuse(*_a: object, **_k: object) -> None:
        raise Unauthorized("Unauthorized", code=401)

    monkeypatch.setattr(online, "host_client", refuse)
    code, _, err = run("clusters")
    one_line(code, err, 1, "Unauthorized")


# -- parsing mistakes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["join", "m1", "--bogus"], "No such option: --bogus (see 'kubectl kubefed join --help')"),
        (
            ["status", "--kubeconfig"],
            "Option '--kubeconfig' requires an argument. (see 'kubectl kubefed status",
        ),
        (["join"], "Missing argument 'CLUSTER_NAME'"),
        (["simulate", "s.yaml", "--seed", "abc"], "Invalid value for '--seed'"),
        (["version", "extra"], "unexpected extra argument"),
        (["nope"], "No such command 'nope'"),
        (["--bogus"], "No such option: --bogus (see 'kubectl kubefed --help')"),
        (["completion", "tcsh"], "shell must be bash, zsh, fish or powershell"),
        (
            ["agent", "--cluster-name", "Bad_Name", "--host-kubeconfig", "/nonexistent"],
            'the namespace "kubefed-cluster-Bad_Name" a DNS label',
        ),
        (["agent", "--cluster-name", "m1", "--qps", "fast"], "Invalid value for '--qps'"),
    ],
)
def test_parsing_mistakes_are_one_line_exit_2(argv: list[str], message: str) -> None:
    code, out, err = run(*argv)
    one_line(code, err, 2, message)
    assert out == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["federate", "-f", "-", "-o", "table"], "-o must be yaml or json, not table"),
        (["enable", "configmaps", "-o", "text"], "-o must be yaml or json, not text"),
        (["init", "-o", "wide"], "-o must be yaml or json, not wide"),
        (["render", "-f", "-", "-o", "table"], "-o must be text, yaml or json, not table"),
        (["simulate", "s.yaml", "-o", "text"], "-o must be table, yaml or json, not text"),
        (["status", "--all", "-o", "yaml"], "-o must be table or json, not yaml"),
        (["clusters", "-o", "yaml"], "-o must be table or json, not yaml"),
    ],
)
def test_output_formats_are_checked_in_one_place(argv: list[str], message: str) -> None:
    code, _, err = run(*argv)
    one_line(code, err, 2, message)


# -- --dry-run ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", WRITERS)
def test_every_writing_command_takes_dry_run(name: str) -> None:
    _, out, _ = run(name, "--help")
    assert "--dry-run none|client|server" in out


@pytest.mark.parametrize("name", WRITERS)
def test_a_bad_dry_run_is_one_line(name: str, unreachable: str) -> None:
    args = {
        "join": ["m1"],
        "unjoin": ["m1"],
        "enable": ["cm"],
        "disable": ["cm"],
        "federate": ["cm", "x"],
    }.get(name, [])
    if name == "orphaning-deletion":
        args = ["enable", "cm", "x"]
    code, _, err = run(name, *args, "--kubeconfig", unreachable, "--dry-run=later")
    one_line(code, err, 2, "--dry-run must be none, client or server, not later")


def test_dry_run_alone_means_client() -> None:
    assert cli_main.bare_dry_run(["join", "m", "--dry-run"]) == ["join", "m", "--dry-run=client"]
    assert cli_main.bare_dry_run(["--dry-run", "-o", "yaml"]) == ["--dry-run=client", "-o", "yaml"]
    assert cli_main.bare_dry_run(["--dry-run", "server"]) == ["--dry-run", "server"]
    assert cli_main.bare_dry_run(["--", "--dry-run"]) == ["--", "--dry-run"]


def test_dry_run_and_print_only_do_not_mix(unreachable: str) -> None:
    code, _, err = run("federate", "cm", "x", "-o", "yaml", "--dry-run", "--kubeconfig", unreachable)
    one_line(code, err, 2, "--dry-run cannot be combined with -o")


def test_dry_run_server_reaches_the_cluster(unreachable: str) -> None:
    # server dry run needs the API server: the usual unreachable error, exit code 1
    code, _, err = run("init", "--kubeconfig", unreachable, "--dry-run=server")
    one_line(code, err, 1, "cannot reach the host cluster")


# -- completion -----------------------------------------------------------------------------


def test_completion_script_and_completions() -> None:
    code, out, _ = run("completion", "bash")
    assert code == 0
    assert "_KUBECTL_KUBEFED_COMPLETE=complete_bash" in out and "kubectl-kubefed" in out
    env = {
        **os.environ,
        "_KUBECTL_KUBEFED_COMPLETE": "complete_bash",
        "COMP_WORDS": "kubectl-kubefed jo",
        "COMP_CWORD": "1",
    }
    res = subprocess.run(
        [str(BIN / "kubectl-kubefed")], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["join"]


def test_kubectl_plugin_completion_answers_as_cobra() -> None:
    from kubectl_kubefed.cli.kubectl_completion import answer

    assert answer(["jo"]) == "join\tRegister a member cluster with the host...\n:4\n"
    lines = answer(["status", "--con"]).splitlines()
    assert lines[0].startswith("--context\t") and lines[-1] == ":4"
    assert answer(["render", "-f", ""]) == ":0\n"  # a file: the shell completes file names
    assert {line.split("\t")[0] for line in answer([]).splitlines()} >= {"join", "status", "completion", ":4"}

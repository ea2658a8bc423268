"""Running an entry point (the CLI's ``main``, the post-renderer's ``main``) in this process.

Much faster than a subprocess per case; a hang raises ``Hang`` after a wall-clock bound,
and ``KUBEFED_DEBUG`` is set so that a bug raises here instead of becoming one line.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import signal
import sys
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import typer

from kubectl_kubefed.cli import main as cli_main

WALL_SECONDS = 20


class Hang(Exception):
    pass


@contextlib.contextmanager
def _wall_clock(seconds: int) -> Iterator[None]:
    def expire(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"no answer within {seconds}s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run_inprocess(
    entry: Callable[[], None], argv: list[str], stdin: str = "", seconds: int = WALL_SECONDS
) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of an entry point run in this process."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv, sys.stdin
    sys.argv, sys.stdin = ["prog", *argv], io.StringIO(stdin)
    code = 0
    debug = os.environ.get("KUBEFED_DEBUG")
    os.environ["KUBEFED_DEBUG"] = "1"  # a bug raises here (for hypothesis to shrink)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _wall_clock(seconds):
            entry()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        sys.argv, sys.stdin = saved
        if debug is None:
            del os.environ["KUBEFED_DEBUG"]
        else:
            os.environ["KUBEFED_DEBUG"] = debug
    return code, out.getvalue(), err.getvalue()


@functools.cache
def _command() -> Any:
    # Typer rebuilds its click command (inspecting every signature) on each call: most of
    # an in-process run. main() only calls app(prog_name=...), so a built one stands in.
    return typer.main.get_command(cli_main.app)


def _cached_app(prog_name: str) -> None:
    _command().main(args=sys.argv[1:], prog_name=prog_name)


def kubectl(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    """``kubectl-kubefed ARGV...`` in this process, through ``main()`` and its error
    handling: (exit code, stdout, stderr)."""
    app = cli_main.app
    _command()  # built from the real app, before it is stood in for
    cli_main.app = _cached_app  # type: ignore[assignment]
    try:
        return run_inprocess(cli_main.main, list(argv), stdin)
    finally:
        cli_main.app = app

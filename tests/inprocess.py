"""Running an entry point (the CLI's ``main``, the post-renderer's ``main``) in this process.

Much faster than a subprocess per case; a hang raises ``Hang`` after a wall-clock bound,
and ``KUBEFED_DEBUG`` is set so that a bug raises here instead of becoming one line.
"""

from __future__ import annotations

import contextlib
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


_BUILT: dict[str, Any] = {}


def kubectl(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    """``kubectl-kubefed ARGV...`` in this process, through ``main()`` and its error
    handling: (exit code, stdout, stderr).

    Building the click command (typer inspects every signature) is most of an in-process
    run, so it is built once and stood in for while ``main()`` runs.
    """
    if hasattr(cli_main, "command"):  # main() builds its click command with command()
        name, real = "command", getattr(cli_main, "command")  # noqa: B009
        if name not in _BUILT:
            _BUILT[name] = real()
        built = _BUILT[name]
        stand_in: Any = lambda: built  # noqa: E731
    else:  # main() calls app(prog_name=...)
        name, real = "app", cli_main.app
        if name not in _BUILT:
            _BUILT[name] = typer.main.get_command(real)
        built = _BUILT[name]
        stand_in = lambda prog_name: built.main(args=sys.argv[1:], prog_name=prog_name)  # noqa: E731
    setattr(cli_main, name, stand_in)
    try:
        return run_inprocess(cli_main.main, list(argv), stdin)
    finally:
        setattr(cli_main, name, real)

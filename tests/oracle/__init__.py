"""Differential tests against Go oracles (hack/oracles/NAME): real components' answers."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from tests.conftest import require_oracle


class Oracle:
    """One long-lived oracle process: a JSON line in, a JSON line out, per case."""

    def __init__(self, name: str) -> None:
        exe = require_oracle(name)
        self.proc = subprocess.Popen(
            [str(exe)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8"
        )

    def ask(self, **case: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(case) + "\n")
        self.proc.stdin.flush()
        answer: dict[str, Any] = json.loads(self.proc.stdout.readline())
        return answer

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)

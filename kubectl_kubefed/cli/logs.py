"""Structured logs: one JSON object per line on stderr (never a token or a header)."""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


class Logger:
    def __init__(self, level: str = "info", component: str = "kubefed-controller") -> None:
        self.level = LEVELS.get(level, 20)
        self.component = component
        self._lock = threading.Lock()

    def log(self, level: str, msg: str, **fields: Any) -> None:
        if LEVELS[level] < self.level:
            return
        record = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
            + f".{int(time.time() * 1000) % 1000:03d}Z",
            "level": level,
            "component": self.component,
            "msg": msg,
            **fields,
        }
        with self._lock:
            print(json.dumps(record, default=str), file=sys.stderr, flush=True)

    def info(self, msg: str, **fields: Any) -> None:
        self.log("info", msg, **fields)

    def warning(self, msg: str, **fields: Any) -> None:
        self.log("warning", msg, **fields)

    def error(self, msg: str, **fields: Any) -> None:
        self.log("error", msg, **fields)

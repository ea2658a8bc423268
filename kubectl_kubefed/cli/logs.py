"""Logs through the stdlib ``logging``: one JSON object per line on stderr (``--log-format
json``, the default) or ``text`` lines for a terminal; never a token or a header.

``configure`` sets up the root logger, so the kubernetes client's and urllib3's records
(and Python warnings, e.g. urllib3's, through ``logging.captureWarnings``) come out in the
same format. Verbosity: ``--log-level`` or ``-v N``/``--v=N`` (klog's style: 0 info,
1 and up debug for ours, 4 and up debug for the libraries too).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, TextIO

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
FORMATS = ("json", "text")
COMPONENT = "kubefed-controller"
LIBRARY_DEBUG_VERBOSITY = 4


def _timestamp(created: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{int(created * 1000) % 1000:03d}Z"


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, "fields", None)
    return dict(fields) if isinstance(fields, dict) else {}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": record.levelname.lower(),
            "component": COMPONENT,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        line.update(_fields(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extra = " ".join(f"{k}={json.dumps(v, default=str)}" for k, v in _fields(record).items())
        text = f"{_timestamp(record.created)} {record.levelname:<7} {record.getMessage()}"
        return f"{text} {extra}" if extra else text


def level_of(log_level: str, verbosity: int) -> int:
    if log_level not in LEVELS:
        raise ValueError(f"--log-level must be one of {', '.join(LEVELS)}, not {log_level}")
    return logging.DEBUG if verbosity > 0 else LEVELS[log_level]


def configure(
    log_level: str = "info", verbosity: int = 0, log_format: str = "json", stream: TextIO | None = None
) -> None:
    """Route every record (ours, the libraries', Python warnings) to ``stream`` (stderr)."""
    if log_format not in FORMATS:
        raise ValueError(f"--log-format must be json or text, not {log_format}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    level = level_of(log_level, verbosity)
    root.setLevel(level if verbosity >= LIBRARY_DEBUG_VERBOSITY else max(level, logging.INFO))
    logging.getLogger("kubefed").setLevel(level)
    logging.captureWarnings(True)


class Logger:
    """The controller's logger: ``log(level, msg, **fields)``, fields as JSON keys."""

    def __init__(self, name: str = "kubefed.controller") -> None:
        self._logger = logging.getLogger(name)

    def log(self, level: str, msg: str, **fields: Any) -> None:
        self._logger.log(LEVELS.get(level, logging.INFO), msg, extra={"fields": fields})

    def debug(self, msg: str, **fields: Any) -> None:
        self.log("debug", msg, **fields)

    def info(self, msg: str, **fields: Any) -> None:
        self.log("info", msg, **fields)

    def warning(self, msg: str, **fields: Any) -> None:
        self.log("warning", msg, **fields)

    def error(self, msg: str, **fields: Any) -> None:
        self.log("error", msg, **fields)

"""The controllers the manager runs, in order (the FTCs are read before the first probe
round). A new controller is a module with a ``SPEC`` and one line here."""

from __future__ import annotations

from kubectl_kubefed.sync import application, health, scheduling, typeconfigs
from kubectl_kubefed.sync.controller import ControllerSpec

DEFAULT: tuple[ControllerSpec, ...] = (typeconfigs.SPEC, health.SPEC, scheduling.SPEC, application.SPEC)

"""The ClusterClient protocol both backends implement, and the executor for member calls.

Controllers only ever talk to clusters through this protocol, so the code that the
simulator property-tests is the code that runs against real API servers.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from kubectl_kubefed.api.objects import Obj

T = TypeVar("T")


@dataclass(frozen=True)
class WatchEvent:
    type: str  # ADDED | MODIFIED | DELETED | BOOKMARK | ERROR (the watch ended; re-list)
    obj: Obj


@dataclass(frozen=True)
class ServedKind:
    """A kind a cluster serves (discovery): its resource name and scope."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool


class Watch(Protocol):
    def stop(self) -> None: ...


class ClusterClient(Protocol):
    """One cluster's API, in terms of unstructured objects (tests/conformance runs the same
    cases on both backends)."""

    name: str

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> Obj: ...

    def list(
        self, api_version: str, kind: str, namespace: str = "", label_selector: str = ""
    ) -> tuple[list[Obj], str]:
        """Objects and the list's resourceVersion (to start a watch from)."""
        ...

    def watch(
        self,
        api_version: str,
        kind: str,
        handler: Callable[[WatchEvent], None],
        *,
        namespace: str = "",
        label_selector: str = "",
        resource_version: str = "",
    ) -> Watch: ...

    def create(self, obj: Mapping[str, Any]) -> Obj: ...

    def update(self, obj: Mapping[str, Any]) -> Obj: ...

    def update_status(self, obj: Mapping[str, Any]) -> Obj: ...

    def delete(
        self,
        api_version: str,
        kind: str,
        namespace: str,
        name: str,
        options: Mapping[str, Any] | None = None,
    ) -> None: ...

    def served(self, api_version: str, kind: str) -> ServedKind:
        """Discovery: the kind as the cluster serves it; NotFound when it does not."""
        ...

    def healthz(self) -> str: ...

    def version(self) -> Mapping[str, Any]: ...


class TimedOut:
    """Marker result of an operation that did not finish within the dispatch timeout."""


TIMED_OUT = TimedOut()


class Executor(Protocol):
    """Runs one reconcile's member operations "concurrently" under an overall timeout."""

    def run_all(self, calls: Sequence[Callable[[], T]], timeout: float) -> list[T | TimedOut]: ...


class ThreadExecutor:
    """Real concurrency: calls run on a shared pool; those not done by the timeout are
    reported as timed out (they still finish in the background, as in KubeFed)."""

    def __init__(self, max_workers: int = 32) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="dispatch"
        )

    def run_all(self, calls: Sequence[Callable[[], T]], timeout: float) -> list[T | TimedOut]:
        futures = [self._pool.submit(call) for call in calls]
        done, _ = concurrent.futures.wait(futures, timeout=timeout)
        return [f.result() if f in done else TIMED_OUT for f in futures]

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

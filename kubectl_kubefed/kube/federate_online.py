"""``federate TYPE NAME``: convert an object that lives on the host and create its federated form."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.api.objects import Obj, kind_of, name_of, namespace_of
from kubectl_kubefed.core import overrides as ov
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core.federate import federate
from kubectl_kubefed.core.override_rules import Rule, overrides_for
from kubectl_kubefed.core.ownership import generated_by_kubernetes
from kubectl_kubefed.kube import discovery, typeops
from kubectl_kubefed.kube.apply import server_dry_run
from kubectl_kubefed.kube.client import KubeClusterClient
from kubectl_kubefed.sync.errors import AlreadyExists, NotFound

SKIPPED_GROUPS = {"extensions", names.TYPES_GROUP, names.CORE_GROUP, names.SCHEDULING_GROUP}
SKIPPED_RESOURCES = {
    "endpoints",
    "events",
    "events.events.k8s.io",
    "endpointslices.discovery.k8s.io",
    "pods",
    "replicasets.apps",
    "controllerrevisions.apps",
    "leases.coordination.k8s.io",
    "localsubjectaccessreviews.authorization.k8s.io",
    "bindings",
    "podtemplates",
}


@dataclass
class FederateOptions:
    namespace: str
    placement: Mapping[str, Any] | None
    rules: list[Rule]
    enable_type: bool
    print_only: bool
    contents: bool
    skip: set[str] = field(default_factory=set)
    federated_group: str = names.TYPES_GROUP
    federated_version: str = names.TYPES_VERSION
    dry_run: bool = False  # --dry-run client or server (the host client says which)


def _skipped(res: discovery.ApiResource, skip: set[str]) -> bool:
    keys = {res.plural, res.kind.lower(), res.qualified, res.group, *res.short_names}
    return bool(keys & skip) or res.group in SKIPPED_GROUPS or res.qualified in SKIPPED_RESOURCES


class Federator:
    def __init__(
        self,
        host: KubeClusterClient,
        kubefed_namespace: str,
        opts: FederateOptions,
        say: Callable[[str], None],
    ) -> None:
        self.host = host
        self.ns = kubefed_namespace
        self.opts = opts
        self.say = say
        self.resources = discovery.preferred_resources(host)
        self.enabled = {
            (t.kind, t.group): t for _, t in typeops.enabled_type_configs(host, kubefed_namespace)
        }
        self.printed: list[Obj] = []

    def type_for(self, res: discovery.ApiResource, required: bool = True) -> tc.TypeConfig | None:
        enabled = self.enabled.get((res.kind, res.group))
        if enabled is not None:
            return enabled
        t = typeops.type_config_for(self.host, res).with_federated(
            self.opts.federated_group, self.opts.federated_version
        )
        if self.opts.print_only:
            return t
        if self.opts.enable_type:
            typeops.enable(self.host, t, self.ns, dry_run=self.opts.dry_run, say=self.say)
            self.enabled[(res.kind, res.group)] = t
            return t
        if required:
            raise InputError(
                f'type "{res.qualified}" is not enabled: run `kubectl kubefed enable '
                f"{res.qualified}` or pass --enable-type"
            )
        return None

    def one(self, t: tc.TypeConfig, obj: Obj) -> None:
        try:
            obj_overrides = overrides_for(self.opts.rules, kind_of(obj), name_of(obj), namespace_of(obj))
        except ov.OverridesError as err:
            raise InputError(f"{kind_of(obj)} {name_of(obj)}: {err}") from None
        fed = federate(obj, t, placement=self.opts.placement, overrides=obj_overrides or None).obj
        if self.opts.print_only:
            self.printed.append(fed)
            return
        if self.opts.dry_run:
            self._preview(t, fed)
            return
        deadline = time.monotonic() + 10  # a CRD enabled a moment ago may not be served yet
        while True:
            try:
                self.host.create(fed)
                break
            except AlreadyExists:
                raise InputError(f"{t.federated_kind} {_ref(fed)} already exists") from None
            except NotFound:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        self.say(
            f"{t.federated_kind.lower()}.{t.federated_group}/{name_of(fed)} created"
            + (f" in namespace {namespace_of(fed)}" if namespace_of(fed) else "")
        )

    def _preview(self, t: tc.TypeConfig, fed: Obj) -> None:
        """--dry-run: say what would be created (client), or create it as the API server's
        dry run (server); a federated CRD that --enable-type only previewed is not there yet."""
        ref = f"{t.federated_kind.lower()}.{t.federated_group}/{name_of(fed)}"
        where = f" in namespace {namespace_of(fed)}" if namespace_of(fed) else ""
        if not server_dry_run(self.host):
            self.say(f"{ref} would be created{where} (dry run)")
            return
        try:
            self.host.create(fed)
        except AlreadyExists:
            raise InputError(f"{t.federated_kind} {_ref(fed)} already exists") from None
        except NotFound as err:
            self.say(f"{ref} would be created{where} (server dry run: not checked, {err})")
            return
        self.say(f"{ref} created{where} (server dry run)")

    def federate(self, type_name: str, name: str, progress: Callable[[int, int], None]) -> None:
        try:
            res = discovery.find(self.resources, type_name)
        except discovery.LookupError_ as err:
            raise InputError(str(err)) from None
        t = self.type_for(res)
        assert t is not None
        ns = "" if not res.namespaced else self.opts.namespace
        try:
            obj = self.host.get(res.api_version, res.kind, ns, name)
        except NotFound:
            raise InputError(
                f'{res.kind} "{name}" not found' + (f" in namespace {ns}" if ns else "")
            ) from None
        if self.opts.contents and res.kind != "Namespace":
            raise InputError("--contents only applies to namespaces")
        self.one(t, obj)
        if self.opts.contents:
            self.contents(name, progress)

    def contents(self, namespace: str, progress: Callable[[int, int], None]) -> None:
        work: list[tuple[tc.TypeConfig, Obj]] = []
        for res in self.resources:
            if not res.namespaced or "list" not in res.verbs or "create" not in res.verbs:
                continue
            if _skipped(res, self.opts.skip):
                continue
            try:
                items, _ = self.host.list(res.api_version, res.kind, namespace)
            except NotFound:
                continue
            items = contents_to_federate(items)
            if not items:
                continue
            t = self.type_for(res, required=False)
            if t is None:
                self.say(
                    f"warning: skipping {len(items)} {res.qualified}: type not enabled (see --enable-type)"
                )
                continue
            work += [(t, o) for o in items]
        for i, (t, obj) in enumerate(work, start=1):
            self.one(t, obj)
            progress(i, len(work))


def contents_to_federate(items: list[Obj]) -> list[Obj]:
    """A namespace's objects ``--contents`` federates: all but those Kubernetes makes in
    every namespace. Any name works (``app:reader`` gets a valid federated name)."""
    return [o for o in items if not generated_by_kubernetes(o)]


def _ref(obj: Mapping[str, Any]) -> str:
    ns = namespace_of(obj)
    return f"{ns}/{name_of(obj)}" if ns else name_of(obj)

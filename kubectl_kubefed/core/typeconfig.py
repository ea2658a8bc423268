"""Federated type configs: the built-in table, FederatedTypeConfig and federated CRD generation.

KubeFed semantics §1.2, §1.5, §8.3. A ``TypeConfig`` pairs a target type (e.g.
``apps/v1 Deployment``) with its federated type (``types.kubefed.io/v1beta1
FederatedDeployment``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api import validation as val
from kubectl_kubefed.api.names import join_api_version, split_api_version


class TypeConfigError(ValueError):
    pass


def pluralize(kind: str) -> str:
    """KubeFed's default pluralisation of a kind."""
    lower = kind.lower()
    if lower.endswith(("s", "x", "ch", "sh", "z", "o")):
        return lower + "es"
    if lower.endswith("y"):
        return lower[:-1] + "ies"
    return lower + "s"


@dataclass(frozen=True)
class TypeConfig:
    kind: str
    group: str
    version: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    scalable: bool = False
    tracks_generation: bool = False
    federated_group: str = names.TYPES_GROUP
    federated_version: str = names.TYPES_VERSION
    propagation_enabled: bool = True
    # spec.statusCollection Enabled: each status.clusters[] entry carries the member
    # object's status as remoteStatus (KubeFed's raw resource status, without its gate).
    status_collection: bool = False

    @property
    def name(self) -> str:
        """The FederatedTypeConfig name: ``<plural>`` or ``<plural>.<group>``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def api_version(self) -> str:
        return join_api_version(self.group, self.version)

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def federated_kind(self) -> str:
        return names.FEDERATED_PREFIX + self.kind

    @property
    def federated_plural(self) -> str:
        return "federated" + self.plural

    @property
    def federated_api_version(self) -> str:
        return f"{self.federated_group}/{self.federated_version}"

    @property
    def federated_namespaced(self) -> bool:
        # FederatedNamespace lives in the namespace it federates.
        return self.namespaced or self.kind == "Namespace"

    @property
    def crd_name(self) -> str:
        return f"{self.federated_plural}.{self.federated_group}"

    def with_federated(self, group: str | None, version: str | None) -> TypeConfig:
        return replace(
            self,
            federated_group=group or self.federated_group,
            federated_version=version or self.federated_version,
        )


def _t(
    kind: str,
    group: str,
    version: str,
    plural: str,
    namespaced: bool = True,
    short: str = "",
    scalable: bool = False,
    gen: bool = False,
    status: bool = False,
) -> TypeConfig:
    return TypeConfig(
        kind,
        group,
        version,
        plural,
        namespaced,
        tuple(s for s in short.split(",") if s),
        scalable,
        gen,
        status_collection=status,
    )


BUILTIN_TYPES: tuple[TypeConfig, ...] = (
    _t("ConfigMap", "", "v1", "configmaps", short="cm"),
    _t("Secret", "", "v1", "secrets"),
    _t("ServiceAccount", "", "v1", "serviceaccounts", short="sa"),
    _t("Service", "", "v1", "services", short="svc"),
    _t("Namespace", "", "v1", "namespaces", namespaced=False, short="ns"),
    _t("PersistentVolumeClaim", "", "v1", "persistentvolumeclaims", short="pvc"),
    _t("LimitRange", "", "v1", "limitranges", short="limits"),
    _t("ResourceQuota", "", "v1", "resourcequotas", short="quota"),
    _t("Deployment", "apps", "v1", "deployments", short="deploy", scalable=True, gen=True, status=True),
    _t("ReplicaSet", "apps", "v1", "replicasets", short="rs", scalable=True, gen=True, status=True),
    _t("StatefulSet", "apps", "v1", "statefulsets", short="sts", scalable=True, gen=True, status=True),
    _t("DaemonSet", "apps", "v1", "daemonsets", short="ds", gen=True, status=True),
    _t("Job", "batch", "v1", "jobs", gen=True, status=True),
    _t("CronJob", "batch", "v1", "cronjobs", short="cj", gen=True),
    _t("Ingress", "networking.k8s.io", "v1", "ingresses", short="ing", gen=True),
    _t("NetworkPolicy", "networking.k8s.io", "v1", "networkpolicies", short="netpol", gen=True),
    _t(
        "HorizontalPodAutoscaler",
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        short="hpa",
        gen=True,
    ),
    _t("PodDisruptionBudget", "policy", "v1", "poddisruptionbudgets", short="pdb", gen=True),
    _t("Role", "rbac.authorization.k8s.io", "v1", "roles"),
    _t("RoleBinding", "rbac.authorization.k8s.io", "v1", "rolebindings"),
    _t("ClusterRole", "rbac.authorization.k8s.io", "v1", "clusterroles", namespaced=False),
    _t(
        "ClusterRoleBinding",
        "rbac.authorization.k8s.io",
        "v1",
        "clusterrolebindings",
        namespaced=False,
    ),
    _t("StorageClass", "storage.k8s.io", "v1", "storageclasses", namespaced=False, short="sc"),
    _t("PriorityClass", "scheduling.k8s.io", "v1", "priorityclasses", namespaced=False, short="pc"),
    _t(
        "CustomResourceDefinition",
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        namespaced=False,
        short="crd,crds",
        gen=True,
    ),
)

# What KubeFed's Helm chart enables by default (§1.2).
DEFAULT_ENABLED = (
    "clusterroles.rbac.authorization.k8s.io",
    "configmaps",
    "deployments.apps",
    "ingresses.networking.k8s.io",
    "jobs.batch",
    "namespaces",
    "replicasets.apps",
    "secrets",
    "serviceaccounts",
    "services",
)

NAMESPACES_TYPE = next(t for t in BUILTIN_TYPES if t.kind == "Namespace")


def lookup(name: str, types: Iterable[TypeConfig] = BUILTIN_TYPES) -> TypeConfig:
    """Find a type by plural, singular, kind, short name or ``plural.group`` (case-insensitive).

    A core-group match wins at once; several non-core matches are ambiguous.
    """
    wanted = name.lower()
    found: list[TypeConfig] = []
    for t in types:
        keys = {t.plural, t.singular, t.kind.lower(), *t.short_names, t.name.lower()}
        if wanted in keys:
            if t.group == "":
                return t
            found.append(t)
    if not found:
        raise TypeConfigError(f'unknown type "{name}"; give a CRD manifest with -f for custom types')
    if len(found) > 1:
        options = ", ".join(sorted(t.name for t in found))
        raise TypeConfigError(f'"{name}" is ambiguous; use one of: {options}')
    return found[0]


def for_kind(
    api_version: str,
    kind: str,
    namespaced: bool | None = None,
    types: Iterable[TypeConfig] = BUILTIN_TYPES,
) -> TypeConfig:
    """The type config of an object's kind; unknown kinds get KubeFed's offline guess."""
    group, version = split_api_version(api_version)
    for t in types:
        if t.kind == kind and t.group == group:
            return t if t.version == version else replace(t, version=version)
    return TypeConfig(kind, group, version, pluralize(kind), bool(namespaced))


def for_federated_kind(api_version: str, kind: str, types: Iterable[TypeConfig]) -> TypeConfig | None:
    group = split_api_version(api_version)[0]
    for t in types:
        if t.federated_kind == kind and t.federated_group == group:
            return t
    return None


def _names_problem(group: Any, kind: Any, plural: Any, scope: Any) -> str | None:
    """Kubernetes' CRD rules: group a DNS subdomain with a dot, kind and plural RFC 1035
    labels (kind lowercased), scope Cluster or Namespaced."""
    if (problem := val.dns1123_subdomain(group)) is not None or "." not in group:
        return f"group {val.quote(group)} {problem or 'must contain a dot (example.com)'}"
    if (problem := val.kind_problem(kind)) is not None:
        return f"kind {val.quote(kind)} {problem}"
    if (problem := val.dns1035_label(plural)) is not None:
        return f"plural {val.quote(plural)} {problem}"
    if scope not in ("Cluster", "Namespaced"):
        return f"scope {val.quote(scope)} must be Cluster or Namespaced"
    return None


def crd_problem(crd: Mapping[str, Any]) -> str | None:
    """What makes a CustomResourceDefinition manifest unusable, as the API server would say."""
    spec = crd.get("spec")
    if not isinstance(spec, Mapping):
        return "CustomResourceDefinition without spec"
    crd_names = spec.get("names")
    if not isinstance(crd_names, Mapping):
        return "CustomResourceDefinition needs spec.names with kind and plural"
    group, plural = spec.get("group"), crd_names.get("plural")
    problem = _names_problem(group, crd_names.get("kind"), plural, spec.get("scope", "Namespaced"))
    if problem is not None:
        return f"CustomResourceDefinition spec: {problem}"
    for field in ("singular", "listKind"):
        value = crd_names.get(field)
        if value is not None and val.dns1035_label(str(value).lower() if isinstance(value, str) else value):
            return f"CustomResourceDefinition spec.names.{field} {val.quote(value)} is not valid"
    short = crd_names.get("shortNames")
    if short is not None and (
        not isinstance(short, list) or any(val.dns1035_label(x) is not None for x in short)
    ):
        return "CustomResourceDefinition spec.names.shortNames must be a list of RFC 1035 labels"
    name = (crd.get("metadata") or {}).get("name")
    if name != f"{plural}.{group}":
        return f"CustomResourceDefinition metadata.name must be {plural}.{group}, not {val.quote(name)}"
    versions = spec.get("versions")
    if not isinstance(versions, list) or not versions:
        return "CustomResourceDefinition has no versions"
    for version in versions:
        if not isinstance(version, Mapping) or val.dns1035_label(version.get("name")) is not None:
            return "CustomResourceDefinition spec.versions need names like v1 or v1beta1"
        for key in ("served", "storage"):
            if not isinstance(version.get(key, False), bool):
                return f"CustomResourceDefinition spec.versions[].{key} must be true or false"
        for key in ("schema", "subresources"):
            if not isinstance(version.get(key) or {}, Mapping):
                return f"CustomResourceDefinition spec.versions[].{key} must be a map"
    if sum(1 for version in versions if version.get("storage")) > 1:
        return "CustomResourceDefinition has more than one storage version"
    return None


def _spec_replicas_type(schema: Mapping[str, Any]) -> Any:
    node: Any = schema
    for key in ("openAPIV3Schema", "properties", "spec", "properties", "replicas", "type"):
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def from_crd(crd: Mapping[str, Any]) -> TypeConfig:
    """A type config for a CustomResourceDefinition given as a manifest."""
    problem = crd_problem(crd)
    if problem is not None:
        raise TypeConfigError(problem)
    spec = crd.get("spec")
    if not isinstance(spec, Mapping):
        raise TypeConfigError("CustomResourceDefinition without spec")
    crd_names = spec.get("names") if isinstance(spec.get("names"), Mapping) else None
    group = spec.get("group")
    if not crd_names or not crd_names.get("kind") or not crd_names.get("plural") or not group:
        raise TypeConfigError("CustomResourceDefinition needs spec.group, spec.names.kind and plural")
    versions = [v for v in spec.get("versions") or [] if isinstance(v, Mapping)]
    if not versions:
        raise TypeConfigError("CustomResourceDefinition has no versions")
    chosen = next((v for v in versions if v.get("storage")), versions[0])
    return TypeConfig(
        kind=str(crd_names["kind"]),
        group=str(group),
        version=str(chosen.get("name")),
        plural=str(crd_names["plural"]),
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        short_names=tuple(str(s) for s in crd_names.get("shortNames") or []),
        scalable=_spec_replicas_type(chosen.get("schema") or {}) == "integer",
        tracks_generation=bool((chosen.get("subresources") or {}).get("status") is not None),
    )


def from_ftc(ftc: Mapping[str, Any]) -> TypeConfig:
    """Read a FederatedTypeConfig object; plural and group default from its name."""
    spec = ftc.get("spec")
    meta = ftc.get("metadata")
    meta_name = str((meta if isinstance(meta, Mapping) else {}).get("name") or "")
    if not isinstance(spec, Mapping):
        raise TypeConfigError(f"FederatedTypeConfig {meta_name} has no spec")
    target = spec.get("targetType") or {}
    fed = spec.get("federatedType") or {}
    if not isinstance(target, Mapping) or not isinstance(fed, Mapping):
        raise TypeConfigError(f"FederatedTypeConfig {meta_name}: targetType and federatedType must be maps")
    if not target.get("kind") or not target.get("version") or not fed.get("kind"):
        raise TypeConfigError(
            f"FederatedTypeConfig {meta_name}: targetType and federatedType need kind and version"
        )
    default_plural, _, default_group = meta_name.partition(".")
    group = target.get("group") if target.get("group") is not None else default_group
    for field, value, check in (
        ("targetType.kind", target.get("kind"), val.kind_problem),
        ("targetType.version", target.get("version"), val.dns1035_label),
        ("targetType.pluralName", target.get("pluralName") or default_plural, val.dns1035_label),
        ("federatedType.kind", fed.get("kind"), val.kind_problem),
    ):
        if (problem := check(value)) is not None:
            raise TypeConfigError(f"FederatedTypeConfig {meta_name}: {field} {val.quote(value)} {problem}")
    for field, value in (("targetType.group", group), ("federatedType.group", fed.get("group"))):
        if value and (problem := val.dns1123_subdomain(value)) is not None:
            raise TypeConfigError(f"FederatedTypeConfig {meta_name}: {field} {val.quote(value)} {problem}")
    if fed.get("version") and (problem := val.dns1035_label(fed.get("version"))) is not None:
        raise TypeConfigError(f"FederatedTypeConfig {meta_name}: federatedType.version {problem}")
    builtin = next((t for t in BUILTIN_TYPES if t.kind == target["kind"] and t.group == group), None)
    return TypeConfig(
        kind=str(target["kind"]),
        group=str(group or ""),
        version=str(target["version"]),
        plural=str(target.get("pluralName") or default_plural),
        namespaced=target.get("scope", "Namespaced") == "Namespaced",
        short_names=builtin.short_names if builtin else (),
        scalable=builtin.scalable if builtin else False,
        tracks_generation=builtin.tracks_generation if builtin else False,
        federated_group=str(fed.get("group") or names.TYPES_GROUP),
        federated_version=str(fed.get("version") or names.TYPES_VERSION),
        propagation_enabled=spec.get("propagation", "Enabled") == "Enabled",
        status_collection=spec.get("statusCollection") == "Enabled",
    )


def type_config_object(t: TypeConfig, namespace: str = names.DEFAULT_KUBEFED_NAMESPACE) -> dict[str, Any]:
    """The FederatedTypeConfig KubeFed would create for a type."""
    target: dict[str, Any] = {
        "kind": t.kind,
        "pluralName": t.plural,
        "scope": "Namespaced" if t.namespaced else "Cluster",
        "version": t.version,
    }
    if t.group:
        target = {"group": t.group, **target}
    spec: dict[str, Any] = {
        "federatedType": {
            "group": t.federated_group,
            "kind": t.federated_kind,
            "pluralName": t.federated_plural,
            "scope": "Namespaced" if t.federated_namespaced else "Cluster",
            "version": t.federated_version,
        },
        "propagation": "Enabled" if t.propagation_enabled else "Disabled",
    }
    if t.status_collection:
        # KubeFed sets it on no FTC; here the workload kinds have it (docs/deviations.md).
        spec["statusCollection"] = "Enabled"
    spec["targetType"] = target
    return {
        "apiVersion": names.CORE_API_VERSION,
        "kind": names.KIND_TYPE_CONFIG,
        "metadata": {"name": t.name, "namespace": namespace},
        "spec": spec,
    }


_OBJ: dict[str, Any] = {"type": "object"}
_STR: dict[str, Any] = {"type": "string"}


def _federated_schema(t: TypeConfig) -> dict[str, Any]:
    selector = {
        "type": "object",
        "properties": {
            "matchExpressions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["key", "operator"],
                    "properties": {
                        "key": _STR,
                        "operator": _STR,
                        "values": {"type": "array", "items": _STR},
                    },
                },
            },
            "matchLabels": {"type": "object", "additionalProperties": _STR},
        },
    }
    spec_props: dict[str, Any] = {
        "template": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        "placement": {
            "type": "object",
            "properties": {
                "clusters": {
                    "type": "array",
                    "items": {"type": "object", "required": ["name"], "properties": {"name": _STR}},
                },
                "clusterSelector": selector,
            },
        },
        "overrides": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "clusterName": _STR,
                    "clusterOverrides": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["path"],
                            "properties": {
                                "op": {"type": "string", "pattern": "^(add|remove|replace)?$"},
                                "path": _STR,
                                "value": {"x-kubernetes-preserve-unknown-fields": True},
                            },
                        },
                    },
                },
            },
        },
    }
    if t.scalable:
        spec_props["retainReplicas"] = {"type": "boolean"}
    status = {
        "type": "object",
        "properties": {
            "observedGeneration": {"type": "integer", "format": "int64"},
            "conditions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "type": _STR,
                        "status": _STR,
                        "reason": _STR,
                        "lastUpdateTime": _STR,
                        "lastTransitionTime": _STR,
                    },
                },
            },
            "clusters": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": _STR,
                        "status": _STR,
                        "message": _STR,
                        "remoteStatus": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        },
                    },
                },
            },
        },
    }
    return {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "apiVersion": _STR,
            "kind": _STR,
            "metadata": _OBJ,
            "spec": {"type": "object", "properties": spec_props},
            "status": status,
        },
    }


def federated_crd(t: TypeConfig) -> dict[str, Any]:
    """The federated CRD ``kubectl kubefed enable`` installs for a type."""
    crd_names: dict[str, Any] = {
        "kind": t.federated_kind,
        "listKind": t.federated_kind + "List",
        "plural": t.federated_plural,
        "singular": t.federated_kind.lower(),
    }
    if t.short_names:
        crd_names["shortNames"] = ["f" + s for s in t.short_names]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": t.crd_name},
        "spec": {
            "group": t.federated_group,
            "names": crd_names,
            "scope": "Namespaced" if t.federated_namespaced else "Cluster",
            "versions": [
                {
                    "name": t.federated_version,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {"openAPIV3Schema": _federated_schema(t)},
                }
            ],
        },
    }

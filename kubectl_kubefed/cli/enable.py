"""``kubectl kubefed enable TYPE -o yaml``: the FederatedTypeConfig and federated CRD of a type."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from kubectl_kubefed import manifests
from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.api.objects import name_of
from kubectl_kubefed.api.validation import dns1035_label, dns1123_subdomain, quote
from kubectl_kubefed.cli.output import Format, print_objects
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core.input_checks import check_flags, check_object


def _from_file(path: str) -> tc.TypeConfig:
    docs = manifests.load_files([path], sys.stdin)
    if len(docs) != 1:
        raise InputError(
            f"{path}: expected one CustomResourceDefinition or EnableTypeDirective, got {len(docs)} documents"
        )
    doc = docs[0]
    _, kind = manifests.require_kind(doc)
    check_object(doc.obj, doc.where())
    try:
        if kind == "CustomResourceDefinition":
            return tc.from_crd(doc.obj)
        if kind == "EnableTypeDirective":
            spec = doc.obj.get("spec") or {}
            for key, check in DIRECTIVE_FIELDS.items():
                if spec.get(key) is not None and (problem := check(spec[key])) is not None:
                    raise InputError(f"{doc.where()}: spec.{key} {quote(spec[key])} {problem}")
            found = tc.lookup(name_of(doc.obj))
            return _with_version(found, spec.get("targetVersion")).with_federated(
                spec.get("federatedGroup"), spec.get("federatedVersion")
            )
    except tc.TypeConfigError as err:
        raise InputError(f"{doc.where()}: {err}") from None
    raise InputError(f"{doc.where()}: expected a CustomResourceDefinition or EnableTypeDirective, got {kind}")


DIRECTIVE_FIELDS: dict[str, Callable[[Any], str | None]] = {
    "targetVersion": dns1035_label,
    "federatedGroup": dns1123_subdomain,
    "federatedVersion": dns1035_label,
}


def _with_version(t: tc.TypeConfig, version: str | None) -> tc.TypeConfig:
    from dataclasses import replace

    return replace(t, version=version) if version else t


def resolve(
    type_name: str | None,
    filename: str | None,
    version: str | None,
    federated_group: str,
    federated_version: str,
) -> tc.TypeConfig:
    if (type_name is None) == (filename is None):
        raise InputError("give exactly one of TYPE or -f FILE")
    check_flags(federated_group=federated_group, federated_version=federated_version, version=version)
    if filename is not None:
        t = _from_file(filename)
    else:
        assert type_name is not None
        try:
            t = tc.lookup(type_name)
        except tc.TypeConfigError as err:
            raise InputError(str(err)) from None
    return _with_version(t, version).with_federated(federated_group, federated_version)


def run(
    type_name: str | None,
    filename: str | None,
    output: Format,
    version: str | None,
    federated_group: str,
    federated_version: str,
    kubefed_namespace: str,
) -> None:
    check_flags(kubefed_namespace=kubefed_namespace)
    t = resolve(type_name, filename, version, federated_group, federated_version)
    objs: list[dict[str, Any]] = [tc.type_config_object(t, kubefed_namespace), tc.federated_crd(t)]
    print_objects(objs, output)

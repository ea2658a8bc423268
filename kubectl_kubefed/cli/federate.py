"""``kubectl kubefed federate -f FILE``: convert manifests to their federated form, offline."""

from __future__ import annotations

import sys

from kubectl_kubefed import manifests
from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.cli.output import Format, print_objects, warn
from kubectl_kubefed.core import overrides as ov
from kubectl_kubefed.core.convert import federate_documents, placement_from_flags
from kubectl_kubefed.core.input_checks import check_flags
from kubectl_kubefed.core.override_rules import Rule, parse_rules


def load_override_rules(path: str | None) -> list[Rule]:
    if path is None:
        return []
    source, text = manifests.read_text(path)
    try:
        return parse_rules(manifests.load_yaml_value(text, source))
    except ov.OverridesError as err:
        raise InputError(f"{source}: invalid overrides: {err}") from None


def run(
    filenames: list[str],
    output: Format,
    clusters: str | None,
    cluster_selector: str | None,
    overrides: str | None,
    federated_group: str,
    federated_version: str,
) -> None:
    check_flags(federated_group=federated_group, federated_version=federated_version)
    placement = placement_from_flags(clusters, cluster_selector)
    rules = load_override_rules(overrides)
    docs = manifests.load_files(filenames, sys.stdin)
    objs = federate_documents(
        docs,
        placement=placement,
        rules=rules,
        federated_group=federated_group,
        federated_version=federated_version,
        on_warning=warn,
    )
    print_objects(objs, output)

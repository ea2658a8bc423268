"""Helm post-renderer entry point: a manifest stream in, its federated form out."""

from __future__ import annotations

import sys

from kubectl_kubefed import manifests
from kubectl_kubefed.api import names
from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.core.convert import federate_documents


def main() -> None:
    try:
        docs = manifests.parse_documents(sys.stdin.read(), "<stdin>")
        objs = federate_documents(
            docs,
            placement=None,
            rules=[],
            federated_group=names.TYPES_GROUP,
            federated_version=names.TYPES_VERSION,
            on_warning=lambda _msg: None,
        )
        sys.stdout.write(manifests.dump_yaml(objs))
    except InputError as err:
        print(f"kubefed-post-renderer: {err}", file=sys.stderr)
        sys.exit(2)

"""The post-renderer's floor (bench_helm.py): a fresh process that reads the same stream
with the same kubectl-semantics YAML reader and writes every document back, converting
nothing. ``--format=yaml|json`` as the post-renderer's."""

from __future__ import annotations

import json
import sys

from kubectl_kubefed import manifests


def main() -> None:
    fmt = "json" if "--format=json" in sys.argv[1:] else "yaml"
    text = manifests.read_stream(sys.stdin, "<stdin>")
    parts = []
    for doc in manifests.stream_documents(text, "<stdin>"):
        if doc.value is None:
            continue
        body = (
            json.dumps(doc.value, ensure_ascii=False) + "\n"
            if fmt == "json"
            else manifests.dump_yaml_one(doc.value)
        )
        parts.append("---\n" + body)
    sys.stdout.write("".join(parts))


if __name__ == "__main__":
    main()

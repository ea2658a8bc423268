"""``kubectl kubefed render``: offline preview of exactly what each cluster gets."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from kubectl_kubefed import manifests
from kubectl_kubefed.api import names
from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.api.objects import describe, group_of
from kubectl_kubefed.api.validation import path_segment_name as check_path_segment
from kubectl_kubefed.api.validation import printable, quote
from kubectl_kubefed.cli.output import Format, emit, warn
from kubectl_kubefed.core import render as rd
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core.clusters import Cluster, from_kubefed_cluster
from kubectl_kubefed.core.input_checks import Duplicates, check_federated, check_kubefed_cluster, check_object


def classify(
    docs: Sequence[manifests.Document],
) -> tuple[list[manifests.Document], list[Cluster], list[tc.TypeConfig], str | None]:
    """Split input into federated objects, clusters, type configs and a KubeFedConfig scope."""
    feds: list[manifests.Document] = []
    clusters: dict[str, Cluster] = {}
    types: list[tc.TypeConfig] = []
    scope: str | None = None
    seen = Duplicates()
    cluster_docs: dict[str, str] = {}
    for doc in docs:
        _, kind = manifests.require_kind(doc)
        group = group_of(doc.obj)
        is_config = group == names.CORE_GROUP and kind == names.KIND_KUBEFED_CONFIG
        check_object(doc.obj, doc.where(), need_name=not is_config)
        if group == names.CORE_GROUP and kind == names.KIND_KUBEFED_CLUSTER:
            check_kubefed_cluster(doc.obj, doc.where())
            cluster = from_kubefed_cluster(doc.obj)
            if cluster.name in clusters:
                raise InputError(
                    f"{doc.where()}: KubeFedCluster {cluster.name} given twice "
                    f"(first in {cluster_docs[cluster.name]})"
                )
            clusters[cluster.name] = cluster
            cluster_docs[cluster.name] = doc.where()
        elif group == names.CORE_GROUP and kind == names.KIND_TYPE_CONFIG:
            try:
                types.append(tc.from_ftc(doc.obj))
            except tc.TypeConfigError as err:
                raise InputError(f"{doc.where()}: {err}") from None
        elif is_config:
            config_scope = (doc.obj.get("spec") or {}).get("scope") or names.SCOPE_CLUSTER
            if config_scope not in (names.SCOPE_CLUSTER, names.SCOPE_NAMESPACED):
                raise InputError(f"{doc.where()}: KubeFedConfig spec.scope must be Cluster or Namespaced")
            scope = config_scope
        elif kind == "Namespace" and group == "":
            continue  # a host namespace holding federated objects; nothing to render
        elif kind.startswith(names.FEDERATED_PREFIX) and group not in (
            names.CORE_GROUP,
            names.SCHEDULING_GROUP,
        ):
            check_federated(doc.obj, doc.where())
            seen.add(doc.obj, doc.where())
            feds.append(doc)
        else:
            raise InputError(
                f"{doc.where()}: {describe(doc.obj)} is not a federated object "
                "(convert it with `kubectl kubefed federate -f`)"
            )
    return feds, list(clusters.values()), types, scope


def render_documents(docs: Sequence[manifests.Document], scope: str | None) -> rd.Rendering:
    feds, clusters, types, config_scope = classify(docs)
    chosen_scope = scope or config_scope or names.SCOPE_CLUSTER
    if chosen_scope not in (names.SCOPE_CLUSTER, names.SCOPE_NAMESPACED):
        raise InputError(f"--scope must be Cluster or Namespaced, not {chosen_scope}")
    all_types = [*types, *tc.BUILTIN_TYPES]
    for doc in feds:
        try:
            rd.target_type(doc.obj, all_types)
        except rd.RenderError as err:
            raise InputError(f"{doc.where()}: {err}") from None
    try:
        return rd.render([d.obj for d in feds], clusters, all_types, chosen_scope)
    except rd.RenderError as err:
        for doc in feds:  # rare: find the document to name (each error is about one object)
            try:
                rd.render([doc.obj], clusters, all_types, chosen_scope)
            except rd.RenderError as own:
                raise InputError(f"{doc.where()}: {own}") from None
        raise InputError(str(err)) from None


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def output_path(out: Path, cluster: str) -> Path:
    """``DIR/<cluster>.yaml``, refused unless it is a file directly inside DIR.

    Cluster names are validated long before (DNS-1123 subdomains), so this is the last
    line of defence, not the rule.
    """
    if check_path_segment(cluster) is not None or cluster != cluster.strip():
        raise InputError(f"--output-dir: cluster name {quote(cluster)} cannot name a file")
    path = out / f"{cluster}.yaml"
    if path.resolve().parent != out.resolve():
        raise InputError(f"--output-dir: {quote(str(path))} would be outside {quote(str(out))}")
    return path


def write_output_dir(rendering: rd.Rendering, directory: str) -> list[Path]:
    """One ``<cluster>.yaml`` per cluster, all inside DIR; every file is rendered and every
    path checked before any is written."""
    out = Path(directory)
    if out.exists() and not out.is_dir():
        raise InputError(f"--output-dir {quote(directory)}: not a directory")
    planned = [
        (output_path(out, c), manifests.dump_yaml(objs)) for c, objs in sorted(rendering.clusters.items())
    ]
    try:
        out.mkdir(parents=True, exist_ok=True)
        for path, _ in planned:  # after mkdir: a symlinked DIR resolves now as it will when written
            output_path(out, path.stem)
    except OSError as err:
        raise InputError(f"--output-dir {quote(directory)}: {err.strerror}") from None
    written = []
    for path, text in planned:
        try:
            _write_atomically(path, text)
        except OSError as err:
            raise InputError(f"--output-dir {quote(str(path))}: {err.strerror}") from None
        written.append(path)
    return written


def format_text(rendering: rd.Rendering) -> str:
    lines: list[str] = []
    for cluster, objs in sorted(rendering.clusters.items()):
        lines.append(f"{cluster}: {len(objs)} object{'s' if len(objs) != 1 else ''}")
        for obj in objs:
            lines.append(f"  {obj.get('apiVersion')} {describe(obj)}")
    problems = [f for f in rendering.federated if f.reason or f.errors]
    if problems:
        lines.append("not propagated everywhere:")
        for f in problems:
            head = f"  {f.kind} {f.namespace + '/' if f.namespace else ''}{f.name}"
            if f.reason:
                lines.append(f"{head}: {f.reason}")
            for cluster, error in sorted(f.errors.items()):
                lines.append(f"{head} in {cluster}: {error}")
    return "\n".join(printable(line) for line in lines) + "\n"  # errors echo override paths


def run(filenames: list[str], scope: str | None, output: Format, output_dir: str | None) -> None:
    docs = manifests.load_files(filenames, sys.stdin)
    rendering = render_documents(docs, scope)
    written = write_output_dir(rendering, output_dir) if output_dir is not None else []
    for f in rendering.federated:  # after writing: an error is then the only line printed
        for w in f.warnings:
            warn(f"{f.kind} {f.namespace + '/' if f.namespace else ''}{f.name}: {w}")
    if output_dir is not None:
        for path in written:
            count = len(rendering.clusters[path.stem])
            print(f"wrote {path} ({count} object{'s' if count != 1 else ''})")
        return
    if output is Format.text:
        sys.stdout.write(format_text(rendering))
    else:
        emit(rendering.as_dict(), output)

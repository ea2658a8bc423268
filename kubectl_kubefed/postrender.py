"""Helm post-renderer: a chart's rendered manifests in, their federated form out.

Helm 3 runs the ``kubefed-post-renderer`` executable (``--post-renderer
kubefed-post-renderer``); Helm 4 runs the ``kubefed`` plugin (plugin.yaml at the repository
root, ``--post-renderer kubefed``), which executes this same entry point. Arguments come
through ``--post-renderer-args``, one per occurrence.

Helm 3 sends ``# Source:`` comments (``helm template --show-only`` needs them back);
Helm 4 sends a ``postrenderer.helm.sh/postrender-filename`` annotation on each object
(kept on the federated object so Helm can file it) and hides our stderr, so failures
also go to ``--log-file`` and to the terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubectl_kubefed import manifests
from kubectl_kubefed.api import names
from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.api.objects import Obj, kind_of, name_of, namespace_of
from kubectl_kubefed.api.validation import dns1123_label, printable, quote
from kubectl_kubefed.core import overrides as ov
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core.convert import (
    is_kubefed_object,
    narrow_placement,
    placement_from_flags,
    refuse_escape,
)
from kubectl_kubefed.core.federate import federate
from kubectl_kubefed.core.input_checks import Duplicates, check_object
from kubectl_kubefed.core.override_rules import Rule, overrides_for, parse_rules

FILENAME_ANNOTATION = "postrenderer.helm.sh/postrender-filename"
HOOK_ANNOTATION = "helm.sh/hook"
# Hints a chart author can put on source objects; consumed here, never propagated.
HINT_CLUSTERS = "kubefed.io/clusters"
HINT_SELECTOR = "kubefed.io/cluster-selector"
HINT_OVERRIDES = "kubefed.io/overrides"
HINTS = (HINT_CLUSTERS, HINT_SELECTOR, HINT_OVERRIDES)
_HELM_LABELS = ("app.kubernetes.io/managed-by",)
EMPTY_OUTPUT = "# kubefed: no objects\n"
_HELM_ANNOTATION_PREFIXES = ("helm.sh/", "meta.helm.sh/")


@dataclass
class Options:
    placement: Mapping[str, Any] | None = None
    rules: list[Rule] = field(default_factory=list)
    federate_hooks: bool = False
    federate_namespaces: bool = False
    pass_through: set[str] = field(default_factory=set)
    namespace: str = ""
    federate_namespace: bool = False
    federated_group: str = names.TYPES_GROUP
    federated_version: str = names.TYPES_VERSION
    output_format: str = "yaml"  # or json: one JSON document each, much faster to write
    allow_chart_hints: bool = True
    notices: list[str] = field(default_factory=list)  # one line each, reported after rendering
    federate_crds: bool = False
    keep_node_ports: bool = False
    application: str = ""  # the chart becomes one FederatedApplication of this name


@dataclass
class Doc:
    source: str  # the "# Source: ..." comment line (Helm 3), or ""
    obj: Obj
    index: int


def split_stream(text: str) -> list[Doc]:
    """Documents with their ``# Source:`` comments, which a YAML parser would drop."""
    docs: list[Doc] = []
    for raw in manifests.stream_documents(text, "<stdin>"):
        if raw.value is None:
            continue  # only comments
        source = next((ln.strip() for ln in raw.text.splitlines() if ln.startswith("# Source:")), "")
        value = raw.value
        items = value.get("items") if isinstance(value, dict) and value.get("kind") == "List" else [value]
        for item in items or []:
            if not isinstance(item, dict):
                raise InputError(f"<stdin>: document {raw.index}: expected an object")
            docs.append(Doc(source, item, raw.index))
    return docs


def _annotations(obj: Mapping[str, Any]) -> dict[str, str]:
    meta = obj.get("metadata") or {}
    return {str(k): str(v) for k, v in (meta.get("annotations") or {}).items()}


def _hinted(obj: Obj, opts: Options, where: str) -> tuple[Mapping[str, Any] | None, list[Any] | None]:
    """Placement and extra overrides from the object's own hint annotations."""
    ann = _annotations(obj)
    placement = opts.placement
    if not opts.allow_chart_hints:
        return placement, None
    if HINT_CLUSTERS in ann or HINT_SELECTOR in ann:
        try:
            hinted = placement_from_flags(ann.get(HINT_CLUSTERS), ann.get(HINT_SELECTOR))
        except InputError as err:
            raise InputError(f"{where}: {HINT_CLUSTERS}/{HINT_SELECTOR}: {err}") from None
        placement, warning = narrow_placement(opts.placement, hinted)
        if warning:
            opts.notices.append(f"{where}: chart hint narrowed by the flags: {warning}")
    extra: list[Any] | None = None
    if HINT_OVERRIDES in ann:
        try:
            extra = manifests.load_yaml_value(ann[HINT_OVERRIDES], where)
            ov.parse(extra)
        except (InputError, ov.OverridesError) as err:
            raise InputError(f"{where}: invalid {HINT_OVERRIDES}: {err}") from None
    return placement, extra


def _strip_hints(obj: Obj) -> Obj:
    meta = obj.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("annotations"), dict):
        for key in HINTS:
            meta["annotations"].pop(key, None)
        if not meta["annotations"]:
            del meta["annotations"]
    return obj


def _keep_helm_metadata(source: Obj, fed: Obj) -> None:
    """Helm's own labels and annotations go on the federated object, so Helm owns it; the
    template never carries these annotations to members (``core.annotations``)."""
    meta = source.get("metadata") or {}
    fed_meta = fed["metadata"]
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k in _HELM_LABELS}
    annotations = {
        k: v
        for k, v in (meta.get("annotations") or {}).items()
        if k == FILENAME_ANNOTATION or k.startswith(_HELM_ANNOTATION_PREFIXES)
    }
    if labels:
        fed_meta["labels"] = {**fed_meta.get("labels", {}), **labels}
    if annotations:
        fed_meta["annotations"] = {**fed_meta.get("annotations", {}), **annotations}


def _passes_through(obj: Obj, opts: Options) -> bool:
    kind = kind_of(obj)
    if is_kubefed_object(obj, opts.federated_group):
        return True
    if kind == "CustomResourceDefinition" and not opts.federate_crds:
        return True
    if kind in opts.pass_through or kind.lower() in opts.pass_through:
        return True
    if kind == "Namespace" and not opts.federate_namespaces:
        return True
    return HOOK_ANNOTATION in _annotations(obj) and not opts.federate_hooks


def convert(doc: Doc, opts: Options) -> Obj:
    obj = doc.obj
    where = f"<stdin>: document {doc.index}"
    if not isinstance(obj.get("kind"), str) or not obj.get("apiVersion"):
        raise InputError(f"{where}: missing kind or apiVersion")
    check_object(obj, where)
    if _passes_through(obj, opts):
        return _strip_hints(obj)
    placement, extra = _hinted(obj, opts, where)
    t = tc.for_kind(str(obj["apiVersion"]), kind_of(obj), namespaced=bool(namespace_of(obj)))
    t = t.with_federated(opts.federated_group, opts.federated_version)
    try:
        rule_overrides = overrides_for(opts.rules, kind_of(obj), name_of(obj), namespace_of(obj))
        all_overrides = [*(rule_overrides or []), *(extra or [])]
        if all_overrides:
            ov.parse(all_overrides)
    except ov.OverridesError as err:
        raise InputError(f"{where}: {kind_of(obj)} {name_of(obj)}: {err}") from None
    result = federate(
        _strip_hints(obj),
        t,
        placement=placement,
        overrides=all_overrides or None,
        keep_node_ports=opts.keep_node_ports,
    )
    fed = result.obj
    refuse_escape(fed, t, f"{where}: {kind_of(obj)} {name_of(obj)}")
    _keep_helm_metadata(obj, fed)
    for dropped in result.dropped:
        opts.notices.append(f"dropped {dropped} from {_describe(obj)} ({_DROPPED_WHY.get(dropped, '')})")
    return fed


_DROPPED_WHY = {
    "spec.ports[].nodePort": "use --keep-node-ports",
    "spec.clusterIP": "each member allocates its own",
}


# What a YAML reader (Helm's kyaml, go-yaml) refuses, or reads as a line break or a byte
# order mark, even inside a quoted string: non-printable characters, NEL, U+2028/9, U+FEFF.
_NOT_YAML_PRINTABLE = (
    "[^\t\n\r\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)


@functools.cache
def _not_yaml_printable() -> re.Pattern[str]:
    return re.compile(_NOT_YAML_PRINTABLE)  # compiled when first needed: it takes a while


def _json_document(obj: Obj) -> str:
    """One JSON document that is also read as YAML without loss: the characters above
    (DEL, C1 controls, line separators, lone surrogates) are written as JSON escapes."""
    text = json.dumps(obj, ensure_ascii=False)
    if text.isascii() and "\x7f" not in text:
        return text + "\n"  # json.dumps escaped the other ASCII controls
    return _not_yaml_printable().sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def _describe(obj: Obj) -> str:
    ns = namespace_of(obj)
    return f"{kind_of(obj)} {ns + '/' if ns else ''}{name_of(obj)}"


def _namespace_notices(converted: list[Obj], federated: list[Obj], opts: Options) -> list[str]:
    """Objects of another namespace than the release's propagate only where that namespace
    is federated too (KubeFed's NamespaceNotFederated otherwise)."""
    if not opts.namespace:
        return []  # the release namespace is unknown: Helm does not pass it
    covered = {opts.namespace} | {name_of(o) for o in federated if kind_of(o) == "FederatedNamespace"}
    return [
        f"{_describe(obj)} is in namespace {namespace_of(obj)}: federate that namespace too "
        f"(kubectl kubefed federate namespace {namespace_of(obj)})"
        for obj in converted
        if namespace_of(obj) and namespace_of(obj) not in covered
    ]


def federated_namespace(opts: Options) -> Obj:
    placement = opts.placement if opts.placement is not None else {"clusterSelector": {"matchLabels": {}}}
    return {
        "apiVersion": f"{opts.federated_group}/{opts.federated_version}",
        "kind": "FederatedNamespace",
        "metadata": {"name": opts.namespace, "namespace": opts.namespace},
        "spec": {"placement": dict(placement)},
    }


def _application_overrides(obj: Obj, opts: Options, where: str) -> list[dict[str, Any]]:
    """The object's overrides (``--overrides`` rules, its hint) as application overrides."""
    if opts.allow_chart_hints and (HINT_CLUSTERS in _annotations(obj) or HINT_SELECTOR in _annotations(obj)):
        opts.notices.append(
            f"{where}: placement hints are ignored with --application (one placement for all)"
        )
    _, extra = _hinted(obj, opts, where)
    try:
        entries = [
            *(overrides_for(opts.rules, kind_of(obj), name_of(obj), namespace_of(obj)) or []),
            *(extra or []),
        ]
    except ov.OverridesError as err:
        raise InputError(f"{where}: {kind_of(obj)} {name_of(obj)}: {err}") from None
    component = {"kind": kind_of(obj), "name": name_of(obj)}
    return [
        {"clusterName": e["clusterName"], "component": component, "clusterOverrides": e["clusterOverrides"]}
        for e in entries
    ]


def _render_application(docs: list[Doc], opts: Options, dump: Callable[[Obj], str]) -> str:
    """``--application NAME``: every object that is not passed through becomes a component
    of one FederatedApplication; hooks, CRDs, Namespaces and KubeFed objects pass as before."""
    # Imported here: only --application needs them, and a fresh process then starts faster.
    import copy

    from kubectl_kubefed.core import application as ap

    seen = Duplicates()
    parts: list[str] = []
    components: list[Obj] = []
    overrides: list[dict[str, Any]] = []
    first: Obj | None = None
    for doc in docs:
        obj, where = doc.obj, f"<stdin>: document {doc.index}"
        if not isinstance(obj.get("kind"), str) or not obj.get("apiVersion"):
            raise InputError(f"{where}: missing kind or apiVersion")
        check_object(obj, where)
        seen.add(obj, where)
        if _passes_through(obj, opts):
            parts.append("---\n" + (doc.source + "\n" if doc.source else "") + dump(_strip_hints(obj)))
            continue
        overrides.extend(_application_overrides(obj, opts, where))
        components.append(_strip_hints(copy.deepcopy(obj)))
        first = first or obj
    if components:
        found = sorted({namespace_of(c) for c in components if namespace_of(c)})
        if not opts.namespace and len(found) > 1:
            raise InputError(f"--application: objects in namespaces {', '.join(found)}: give --namespace")
        namespace = opts.namespace or (found[0] if found else "")
        try:
            application = ap.wrap(components, opts.application, namespace, opts.placement, overrides)
        except ap.ApplicationError as err:
            raise InputError(f"--application {opts.application}: {err}") from None
        assert first is not None
        _keep_helm_metadata(first, application)
        parts.append("---\n# Source: kubefed/federated-application.yaml\n" + dump(application))
    if opts.federate_namespace:
        parts.append("---\n# Source: kubefed/federated-namespace.yaml\n" + dump(federated_namespace(opts)))
    return "".join(parts) or EMPTY_OUTPUT


def render(text: str, opts: Options) -> str:
    """The whole post-rendering: one output document per input document (plus the
    FederatedNamespace when asked), ``# Source:`` comments kept."""
    docs = split_stream(text)

    def dump(obj: Obj) -> str:
        if opts.output_format == "json":
            return _json_document(obj)
        return manifests.dump_yaml_one(obj)

    if opts.application:
        return _render_application(docs, opts, dump)

    seen = Duplicates()
    parts: list[str] = []
    converted: list[Obj] = []  # the sources of federated objects
    renamed: list[str] = []  # those whose federated object has another name
    out: list[Obj] = []
    for doc in docs:
        fed = convert(doc, opts)
        seen.add(doc.obj, f"<stdin>: document {doc.index}")
        parts.append("---\n" + (doc.source + "\n" if doc.source else "") + dump(fed))
        out.append(fed)
        if fed is not doc.obj and fed.get("kind") != "FederatedNamespace":
            converted.append(doc.obj)
            if name_of(fed) != name_of(doc.obj):
                renamed.append(f"{_describe(doc.obj)} as {name_of(fed)}")
    if opts.federate_namespace:
        parts.append("---\n# Source: kubefed/federated-namespace.yaml\n" + dump(federated_namespace(opts)))
    opts.notices.extend(_namespace_notices(converted, out, opts))
    if renamed:
        listed = ", ".join(renamed[:3]) + (", ..." if len(renamed) > 3 else "")
        opts.notices.append(
            f"{len(renamed)} name{'s are' if len(renamed) > 1 else ' is'} not valid for a federated "
            f"object and mapped on the host ({listed}); the members get the original names"
        )
    # Helm 4 refuses an empty output ("produced empty output"); a comment is a valid
    # stream of no objects for both Helm versions (and for either format: Helm reads YAML).
    return "".join(parts) or EMPTY_OUTPUT


def parse_args(argv: Sequence[str]) -> tuple[Options, str | None]:
    parser = argparse.ArgumentParser(prog="kubefed-post-renderer", description=__doc__.splitlines()[0])
    parser.add_argument("--clusters")
    parser.add_argument("--cluster-selector")
    parser.add_argument("--overrides")
    parser.add_argument("--federate-hooks", action="store_true")
    parser.add_argument("--federate-namespaces", action="store_true")
    parser.add_argument("--pass-through", action="append", default=[])
    parser.add_argument("--namespace", default="")
    parser.add_argument("--federate-namespace", action="store_true")
    parser.add_argument("--federate-crds", action="store_true")
    parser.add_argument("--keep-node-ports", action="store_true")
    parser.add_argument("--application", default="")
    parser.add_argument("--federated-group", default=names.TYPES_GROUP)
    parser.add_argument("--federated-version", default=names.TYPES_VERSION)
    parser.add_argument("--log-file")
    # Helm 4 re-serializes what we print, so JSON (much faster to write) costs its users
    # nothing there; Helm 3 shows our output verbatim, so it gets YAML.
    default_format = "json" if os.environ.get("HELM_PLUGIN_NAME") else "yaml"
    parser.add_argument("--format", choices=["yaml", "json"], default=default_format)
    # The operator's flags bound what a chart's kubefed.io/* hints may do; false ignores them.
    parser.add_argument("--allow-chart-hints", type=_flag_bool, default=True, nargs="?", const=True)
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exit_:
        raise InputError(f"invalid arguments: {' '.join(argv)}") from exit_
    if args.namespace and (problem := dns1123_label(args.namespace)) is not None:
        raise InputError(f"--namespace {quote(args.namespace)} {problem}")
    if args.application and (problem := dns1123_label(args.application)) is not None:
        raise InputError(f"--application {quote(args.application)} {problem}")
    if args.federate_namespace and not args.namespace:
        raise InputError(
            "--federate-namespace needs --namespace (Helm passes no namespace to post-renderers)"
        )
    rules: list[Rule] = []
    if args.overrides:
        source, text = manifests.read_text(args.overrides)
        try:
            rules = parse_rules(manifests.load_yaml_value(text, source))
        except ov.OverridesError as err:
            raise InputError(f"{source}: invalid overrides: {err}") from None
    placement = placement_from_flags(args.clusters, args.cluster_selector)
    kinds = {k.strip() for item in args.pass_through for k in item.split(",") if k.strip()}
    return Options(
        placement,
        rules,
        args.federate_hooks,
        args.federate_namespaces,
        kinds,
        args.namespace,
        args.federate_namespace,
        args.federated_group,
        args.federated_version,
        args.format,
        args.allow_chart_hints,
        federate_crds=args.federate_crds,
        keep_node_ports=args.keep_node_ports,
        application=args.application,
    ), args.log_file


def _flag_bool(value: str) -> bool:
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def _report(message: str, log_file: str | None) -> None:
    line = f"kubefed-post-renderer: {printable(message)}"
    print(line, file=sys.stderr)
    if log_file:
        with contextlib.suppress(OSError), open(log_file, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    # Helm 4 swallows a plugin's stderr: say it where the user is looking.
    with contextlib.suppress(OSError), open("/dev/tty", "w", encoding="utf-8") as tty:
        tty.write(line + "\n")


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    log_file = next((a.split("=", 1)[1] for a in args if a.startswith("--log-file=")), None)
    try:
        opts, log_file = parse_args(args)
        output = render(manifests.read_stream(sys.stdin, "<stdin>"), opts)
        for notice in opts.notices:
            _report(f"warning: {notice}", log_file)
    except InputError as err:
        _report(str(err), log_file)
        sys.exit(2)
    except (ValueError, json.JSONDecodeError) as err:
        _report(f"invalid input: {err}", log_file)
        sys.exit(2)
    except Exception as err:  # a bug: say so in one line; the traceback only when asked
        if os.environ.get("KUBEFED_DEBUG"):
            raise
        _report(f"internal error ({type(err).__name__}); rerun with KUBEFED_DEBUG=1 and report it", log_file)
        sys.exit(70)
    sys.stdout.write(output)


if __name__ == "__main__":
    main()

"""Properties of the post-renderer's output and warnings on generated streams."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kubectl_kubefed import manifests
from kubectl_kubefed.postrender import Options, render
from tests.property.test_postrender_properties import names_, objects

ports = st.lists(
    st.fixed_dictionaries({"port": st.integers(1, 65535)}, optional={"nodePort": st.integers(30000, 32767)}),
    max_size=3,
)


@st.composite
def services(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": draw(names_), "namespace": draw(st.sampled_from(["shop", "other"]))},
        "spec": {"ports": draw(ports)},
    }


streams = st.lists(
    st.one_of(objects(), services()),
    max_size=6,
    unique_by=lambda o: (o["kind"], o["metadata"]["name"], o["metadata"].get("namespace")),
)


@given(streams, st.sampled_from(["yaml", "json"]), st.booleans(), st.booleans())
def test_output_is_never_empty_and_node_ports_are_kept_or_reported(
    objs: list[dict[str, Any]], fmt: str, keep: bool, federate_namespace: bool
) -> None:
    opts = Options(
        output_format=fmt, keep_node_ports=keep, namespace="shop", federate_namespace=federate_namespace
    )
    output = render(manifests.dump_yaml(objs), opts)
    assert output.strip()  # Helm 4 refuses an empty output
    out = [d.obj for d in manifests.parse_documents(output, "<out>")]
    assert len(out) == len(objs) + federate_namespace
    for source, fed in zip(objs, out, strict=False):
        if source["kind"] != "Service":
            continue
        name = f"Service {source['metadata']['namespace']}/{source['metadata']['name']}"
        kept = [p for p in fed["spec"]["template"]["spec"]["ports"] if "nodePort" in p]
        set_ = [p for p in source["spec"]["ports"] if "nodePort" in p]
        assert len(kept) == (len(set_) if keep else 0)
        reported = f"dropped spec.ports[].nodePort from {name} (use --keep-node-ports)" in opts.notices
        assert reported == (bool(set_) and not keep)
        elsewhere = any(n.startswith(f"{name} is in namespace other") for n in opts.notices)
        assert elsewhere == (source["metadata"]["namespace"] == "other")

"""examples/demo/real.sh: the KubeFed demo end to end on a fresh test bed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from kubectl_kubefed.kube.members import client_for_context
from tests.conftest import BIN, ROOT
from tests.e2e import testbed

pytestmark = pytest.mark.e2e


def test_demo_on_real_clusters(bed: object, tmp_path: Path) -> None:
    if os.environ.get("KUBEFED_E2E_KUBECONFIG"):
        pytest.skip("the demo joins clusters under its own names; it runs on its own test bed")
    demo_bed = testbed.start(tmp_path / "bed")
    try:
        env = {
            **os.environ,
            "KUBECONFIG": str(demo_bed.kubeconfig),
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        }
        res = subprocess.run(
            [str(ROOT / "examples/demo/real.sh")], capture_output=True, text=True, env=env, timeout=600
        )
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        kc = str(demo_bed.kubeconfig)
        member2 = client_for_context(kc, "member2")
        deploy = member2.get("apps/v1", "Deployment", "demo", "demo-app")
        assert deploy["spec"]["replicas"] == 5  # cluster2's override
        assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
        host = client_for_context(kc, "host")
        assert host.get("apps/v1", "Deployment", "demo", "demo-app")["spec"]["replicas"] == 3
        # the ConfigMap's placement keeps it off asia (cluster3, the host)
        assert host.list("v1", "ConfigMap", "demo", "kubefed.io/managed=true")[0] == []
        assert "FederatedDeployment" in res.stdout
    finally:
        demo_bed.stop()

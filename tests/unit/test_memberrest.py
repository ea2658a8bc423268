"""An RBAC refusal from a member names the command that fixes it (kube.memberrest)."""

from __future__ import annotations

from kubectl_kubefed.kube.memberrest import remedy_for

SA = "system:serviceaccount:kube-federation-system:member1-host"


def test_rbac_refusals_name_the_remedy() -> None:
    msg = f'secrets is forbidden: User "{SA}" cannot list resource "secrets" in API group "" at the cluster scope'
    assert remedy_for("member1", msg) == (
        f"{msg} (the member identity has no right on this type: run `kubectl kubefed join member1 --update`)"
    )
    rbac = (
        f'clusterroles.rbac.authorization.k8s.io is forbidden: User "{SA}" cannot create resource '
        '"clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope'
    )
    assert remedy_for("member1", rbac).endswith("run `kubectl kubefed join member1 --update --allow-rbac`)")


def test_other_refusals_are_left_as_they_are() -> None:
    for msg in (
        "secrets \"mint\" is forbidden: ValidatingAdmissionPolicy 'kubefed-member.member1-host' with binding "
        "'kubefed-member.member1-host' denied request: the member identity may not write service-account "
        "token Secrets",
        'User "alice" cannot list resource "secrets" in API group ""',
        "",
    ):
        assert remedy_for("member1", msg) == msg

"""The REST layer of a member client: an RBAC refusal names its remedy (docs/security.md)."""

from __future__ import annotations

import re
from typing import Any

from kubectl_kubefed.kube.rest import Rest
from kubectl_kubefed.sync.errors import Forbidden

# The authorizer's refusal; the admission policy's refusals ("... denied request: ...") have
# their own message and no remedy on the host side.
_RBAC_REFUSAL = re.compile(
    r'User "system:serviceaccount:[^"]*" cannot \w+ resource "([^"]+)" in API group "([^"]*)"'
)


def remedy_for(cluster: str, message: str) -> str:
    """The message with the command that grants the right, for an RBAC refusal; else as is."""
    match = _RBAC_REFUSAL.search(message)
    if not match or match.group(2) == "admissionregistration.k8s.io":  # never granted
        return message
    rbac = " --allow-rbac" if match.group(2) == "rbac.authorization.k8s.io" else ""
    return (
        f"{message} (the member identity has no right on this type: "
        f"run `kubectl kubefed join {cluster} --update{rbac}`)"
    )


class MemberRest(Rest):
    def request(self, verb: str, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return super().request(verb, method, path, **kwargs)
        except Forbidden as err:
            raise Forbidden(
                remedy_for(self.name, str(err)), code=err.code, reason=err.reason, details=err.details
            ) from None

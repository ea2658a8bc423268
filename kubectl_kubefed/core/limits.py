"""Limits on what the sync controller accepts from a federated object.

An API server accepts JSON nested thousands of levels deep; building member objects from
it (copies, patches, hashes) would exhaust Python's stack. A federated object whose spec
nests deeper than ``MAX_SPEC_DEPTH`` is refused with ``ComputeResourceFailed`` for every
selected cluster. Real manifests nest a few dozen levels at most.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubectl_kubefed.api.objects import nesting_depth

MAX_SPEC_DEPTH = 100


def spec_too_deep(fed: Mapping[str, Any]) -> str:
    """Why the federated object's spec is refused, or ""."""
    if nesting_depth(fed.get("spec"), MAX_SPEC_DEPTH) > MAX_SPEC_DEPTH:
        return f"the spec nests more than {MAX_SPEC_DEPTH} levels deep; refused"
    return ""

"""Names of federated objects for member objects of any valid Kubernetes name.

A federated object is a custom resource, so its name must be a DNS-1123 subdomain, but
the object it propagates may be named by another rule: RBAC objects accept any path
segment (``system:cert-manager:controller``, ``Admin_Role``). Such a name is mapped to a
valid, deterministic federated name, and the original travels in the template's
``metadata.name``.

The member object's name is the template's name only when the federated object's own
name is exactly the mapping of that template name; otherwise it is the federated
object's name, as in KubeFed. So a federated object names one member object, decided by
its own name, and objects written by KubeFed keep their meaning.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any, Final

from kubectl_kubefed.api.objects import name_of
from kubectl_kubefed.api.validation import DNS1123_SUBDOMAIN_MAX, dns1123_subdomain

HASH_LENGTH: Final = 10  # base32 characters: 50 bits
# Room for the "<kind>-" the PropagatedVersion's name puts before the federated name.
MAPPED_MAX: Final = DNS1123_SUBDOMAIN_MAX - 64
_PREFIX_MAX: Final = MAPPED_MAX - 1 - HASH_LENGTH
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def _digest(name: str) -> str:
    import hashlib  # here: most names are valid, and loading OpenSSL slows every start

    raw = hashlib.sha256(name.encode("utf-8", "surrogatepass")).digest()
    return base64.b32encode(raw).decode("ascii").lower()[:HASH_LENGTH]


def federated_name(member_name: str) -> str:
    """The federated object's name for a member object named ``member_name``.

    Unchanged when it is a DNS-1123 subdomain; otherwise a readable prefix (lowercased,
    every run of other characters than a-z and 0-9 turned into one '-') then '-' and a
    hash of the exact original, at most ``MAPPED_MAX`` (189) characters in all, so that
    names derived from it (PropagatedVersions) stay within 253.
    """
    if dns1123_subdomain(member_name) is None:
        return member_name
    prefix = _NOT_ALNUM.sub("-", member_name.lower()).strip("-")[:_PREFIX_MAX].rstrip("-")
    digest = _digest(member_name)
    return f"{prefix}-{digest}" if prefix else digest


def template_name(fed: Mapping[str, Any]) -> str | None:
    """``spec.template.metadata.name`` when it is a non-empty string, else None."""
    spec = fed.get("spec")
    template = spec.get("template") if isinstance(spec, Mapping) else None
    meta = template.get("metadata") if isinstance(template, Mapping) else None
    name = meta.get("name") if isinstance(meta, Mapping) else None
    return name if isinstance(name, str) and name else None


def member_name(fed: Mapping[str, Any]) -> str:
    """The name of the one member object ``fed`` writes: the template's name when the
    federated object is named by its mapping, else the federated object's own name."""
    own = name_of(fed)
    original = template_name(fed)
    if original is not None and federated_name(original) == own:
        return original
    return own


_MAPPED_TAIL = re.compile(rf"(?:^|-)[a-z2-7]{{{HASH_LENGTH}}}\Z")


def may_be_mapped(fed_name: str) -> bool:
    """Whether ``federated_name`` can have produced ``fed_name`` from an invalid name (it
    ends with the hash); when not, the only member name it stands for is itself."""
    return _MAPPED_TAIL.search(fed_name) is not None

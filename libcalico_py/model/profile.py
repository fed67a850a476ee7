"""Profile spec: rules applied after policies to every endpoint that lists the profile,
and `labelsToApply` inherited by those endpoints (Kubernetes namespaces appear as
profiles `kns.<namespace>`)."""
from __future__ import annotations

from libcalico_py.model.policy import RULES
from libcalico_py.model.schema import F, MapOf, Str, Struct

NAMESPACE_PROFILE_PREFIX = "kns."
SERVICE_ACCOUNT_PROFILE_PREFIX = "ksa."
NAMESPACE_LABEL_PREFIX = "pcns."
SERVICE_ACCOUNT_LABEL_PREFIX = "pcsa."
NAMESPACE_NAME_LABEL = "projectcalico.org/name"


class ProfileSpec(Struct):
    FIELDS = (
        F("ingress", RULES),
        F("egress", RULES),
        F("labelsToApply", MapOf(Str())),
    )

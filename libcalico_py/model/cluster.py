"""ClusterInformation spec: cluster GUID, type, Calico version and the datastoreReady
flag (a pointer in Go, so an explicit false is kept)."""
from __future__ import annotations

from libcalico_py.model.schema import Bool, F, Str, Struct


class ClusterInformationSpec(Struct):
    FIELDS = (
        F("clusterGUID", Str(), attr="cluster_guid"),
        F("clusterType", Str()),
        F("calicoVersion", Str()),
        F("datastoreReady", Bool(), ptr=True),
        F("variant", Str()),
    )

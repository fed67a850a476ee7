"""ObjectMeta: the `metadata` block every resource carries (Kubernetes ObjectMeta as
Calico's v3 types embed it).

The attribute names are the snake_case of the JSON names: `name`, `namespace`, `labels`,
`annotations`, `resource_version`, `uid`, `creation_timestamp`, ...
"""
from __future__ import annotations

from libcalico_py.model.schema import F, Int, ListOf, MapOf, Raw, Str, Struct


class ObjectMeta(Struct):
    FIELDS = (
        F("name", Str()),
        F("generateName", Str()),
        F("namespace", Str()),
        F("selfLink", Str()),
        F("uid", Str()),
        F("resourceVersion", Str()),
        F("generation", Int()),
        F("creationTimestamp", Str()),
        F("deletionTimestamp", Str()),
        F("deletionGracePeriodSeconds", Int(), ptr=True),
        F("labels", MapOf(Str())),
        F("annotations", MapOf(Str())),
        F("ownerReferences", Raw()),
        F("finalizers", ListOf(Str())),
        F("managedFields", Raw()),
    )

    def _fill_missing(self):
        if self.labels is None:
            self.labels = {}
        if self.annotations is None:
            self.annotations = {}

    @classmethod
    def parse(cls, data, path, errs):
        obj = super().parse(data, path, errs)
        if obj is not None:
            # Entries whose value failed to parse (None) are dropped; the error is reported.
            if None in obj.labels.values():
                obj.labels = {k: v for k, v in obj.labels.items() if v is not None}
            if None in obj.annotations.values():
                obj.annotations = {k: v for k, v in obj.annotations.items() if v is not None}
        return obj

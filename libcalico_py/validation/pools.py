"""IP pool overlap: a pool's CIDR must not overlap another pool's (Calico refuses the
create); the datastore/CLI pass the pools already stored."""
from __future__ import annotations

from libcalico_py.errors import FieldError
from libcalico_py.validation.net import overlaps, parse_network


def validate_pool_overlap(pool, other_pools) -> list[FieldError]:
    try:
        mine = parse_network(pool.spec.cidr)
    except (TypeError, ValueError):
        return []
    errors = []
    for other in other_pools:
        if other.metadata.name == pool.metadata.name:
            continue
        try:
            theirs = parse_network(other.spec.cidr)
        except (TypeError, ValueError):
            continue
        if overlaps(mine, theirs):
            errors.append(FieldError(
                "spec.cidr", f"IPPool {pool.spec.cidr} overlaps with IPPool "
                             f"{other.metadata.name} ({other.spec.cidr})", pool.spec.cidr))
    return errors

"""Calico-style IP address management over etcd: blocks, affinities, handles.

`block` and `pools` are pure; `allocator.IPAM` does the etcd transactions; `check` reads
everything and reports inconsistencies. Submodules are imported lazily by their users so
the CNI plugins pay only for what they call.
"""

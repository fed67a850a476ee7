"""calico-lab: a multi-node Calico cluster in network namespaces on one machine.

Topology (every name carries the lab's prefix; the root namespace is never changed):

    netns <lab>-fabric: bridge br0 + etcd (listening on the bridge address)
      +-- veth -- netns <lab>-nodeN: calico-node-py (felixpy, confdpy, BIRD), per-node dirs
      |             +-- veth caliXXXX -- netns <lab>-p-<ns>.<pod>: the pod (eth0, small server)
      +-- ...
"""

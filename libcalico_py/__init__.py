"""libcalico_py: the shared library every component imports.

It holds the Calico v3 resource model and its validation, the selector language,
the etcd datastore and its list+watch syncer, IPAM, and the Kubernetes
NetworkPolicy conversion. It never imports a component (felixpy, confdpy, ...).
"""

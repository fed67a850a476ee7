"""felixpy: the per-node policy and route agent (Calico's Felix).

Data flows one way: syncer (libcalico_py.datastore.syncer) -> calculation graph
(felixpy.calc, pure) -> messages (felixpy.calc.messages) -> dataplane managers
(felixpy.dataplane) -> drivers (felixpy.iptables, felixpy.ipsets, felixpy.routetable)
-> kernel. Rendering of messages into chains lives in felixpy.rules.
"""

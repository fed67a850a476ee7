"""The Calico datastore in etcd v3.

`keys` (Calico's key layout), `config` (calicoctl-style connection config), `etcd`
(`EtcdDatastore`: resources with compare-and-swap, the raw `kv` layer, failover) and
`syncer` (list + watch with resume and resync). Import the submodule you need: this
package imports nothing, so the CNI plugin and calicoctl pay only for what they use.
"""

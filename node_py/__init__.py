"""calico-node-py: the node container's entry point.

Registers this node (Node resource with its BGP address), makes sure the cluster-wide
defaults exist (ClusterInformation, the default IPPool, FelixConfiguration), installs the
CNI plugins and a conflist, then runs and supervises felixpy, confdpy and BIRD.
"""

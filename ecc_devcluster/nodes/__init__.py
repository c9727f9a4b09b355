"""Real nodes of the local cluster: a kubelet, containerd + runc and kube-proxy per node, each
node in a network namespace of its own joined by a fabric namespace; nothing of it is reachable
from the host except through the gateway on 127.0.0.1.

    plan      where everything of a node lives and which addresses it has (pure)
    configs   the configuration files of containerd, kubelet, kube-proxy, CNI (pure)
    host      namespaces, links, mounts and cgroups: create, tear down, audit
    gateway   the one process joining host loopback and the cluster network
    seed      the node images imported once into a containerd root that nodes hard-link
    specs     the ComponentSpecs (command lines) of each node's processes
"""

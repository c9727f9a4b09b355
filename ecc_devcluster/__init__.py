"""The local development cluster: a real Kubernetes control plane built from Go
modules, real nodes (kubelet, containerd + runc, CNI, kube-proxy, CoreDNS: `nodes/`), KWOK fake
nodes, MinIO and Prometheus — started as local processes, in namespaces the cluster creates.
"""

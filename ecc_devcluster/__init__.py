"""The local development cluster: a real Kubernetes control plane built from Go
modules, KWOK fake nodes, our process node agent (a development stand-in for a
kubelet), MinIO and Prometheus — started as local processes, no container runtime.
"""

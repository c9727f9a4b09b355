"""The Kubernetes client of the simulation commands (and the development cluster's tools)."""

from __future__ import annotations


def api_client(kubeconfig: str | None, pool_size: int | None = None):
    """An ApiClient of `kubeconfig` ($KUBECONFIG or ~/.kube/config when None); `pool_size`: a
    connection pool big enough for thread pools that make thousands of requests. Close it."""
    from kubernetes import client, config

    configuration = client.Configuration()
    config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    if pool_size:
        configuration.connection_pool_maxsize = pool_size
    return client.ApiClient(configuration)

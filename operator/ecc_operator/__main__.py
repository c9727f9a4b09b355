"""`ecc-operator` / `python -m ecc_operator`: run the ECC Fleet operator with kopf.

    python -m ecc_operator --namespace demo --metrics-port 9090 --liveness http://0.0.0.0:8080/healthz

Kubernetes credentials: in a pod, the ServiceAccount; elsewhere --kubeconfig or $KUBECONFIG.
With --peering NAME only one instance (the highest priority) is active at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import sys

import kopf

from ecc_workloads.contracts import (BITEXT_CORPUS, SYSTEM_NAMESPACE, AgentEnv, KServeServing, NodeIdentity,
                                     ReleaseSigning, RuntimeEnv)

BITEXT_CSV_ENV = RuntimeEnv.BITEXT_CSV
DEFAULT_PEERING = "ecc-operator"


def default_bitext_csv() -> str:
    """${ECC_BITEXT_CSV} when set, else the built-in name itself: the Job reads the copy of the
    corpus packaged with ecc_workloads."""
    return os.environ.get(BITEXT_CSV_ENV) or BITEXT_CORPUS


def default_node_credentials_url() -> str:
    namespace = os.environ.get(RuntimeEnv.POD_NAMESPACE) or SYSTEM_NAMESPACE
    return (os.environ.get(AgentEnv.CREDENTIALS_URL)
            or f"https://ecc-operator.{namespace}.svc:{NodeIdentity.PORT}{NodeIdentity.PATH}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ecc-operator", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--namespace", action="append", default=[],
                        help="namespace(s) to watch (repeatable); default: all namespaces")
    parser.add_argument("--kubeconfig", default=None, help="kubeconfig file (default: $KUBECONFIG or in-cluster)")
    parser.add_argument("--liveness", default="http://0.0.0.0:8080/healthz",
                        help="kopf's liveness endpoint URL ('' to disable)")
    parser.add_argument("--metrics-port", type=int, default=9090, help="Prometheus /metrics port (0 disables)")
    parser.add_argument("--peering", default=DEFAULT_PEERING,
                        help="KopfPeering object name: one active instance per name ('' for standalone)")
    parser.add_argument("--priority", type=int, default=None,
                        help="peering priority (highest wins); default: a random one per process, so that "
                             "replicas never tie (kopf keeps every instance of a tied priority active)")
    parser.add_argument("--bitext-csv", default=default_bitext_csv(),
                        help=f"path or s3:// URI Jobs read for the built-in corpus 'bitext' (${BITEXT_CSV_ENV}); "
                             "default: 'bitext', the copy packaged with the Jobs' ecc_workloads")
    parser.add_argument("--kserve-runtime", default=KServeServing.RUNTIME,
                        help="ClusterServingRuntime of InferenceServices whose CloudTeacher names none (the chart's)")
    parser.add_argument("--kserve-storage-container", default=KServeServing.STORAGE_CONTAINER,
                        help="ClusterStorageContainer (storage initializer of ecc-bundle:// URIs) they name")
    parser.add_argument("--node-credentials-port", type=int, default=NodeIdentity.PORT,
                        help="port of the endpoint where edge agents get their own store credentials (0 disables)")
    parser.add_argument("--node-credentials-url", default=default_node_credentials_url(),
                        help=f"that endpoint as the agents reach it (${AgentEnv.CREDENTIALS_URL}; the chart's "
                             "Service); default: the Service ecc-operator in the operator's namespace. https only: its "
                             "certificate is made for this URL's host (--node-credentials-tls-secret)")
    parser.add_argument("--node-credentials-tls-secret", default=NodeIdentity.TLS_SECRET,
                        help="Secret (kubernetes.io/tls) in the operator's namespace with that endpoint's certificate "
                             "and the CA agents trust (ca.crt); made, and renewed, by the operator when absent (its "
                             "CA then also signs the served teachers' certificates)")
    parser.add_argument("--allow-unscoped-store-credentials", action="store_true",
                        help="when the store's STS refuses to narrow a Job's store credentials to its prefixes, give "
                             "the Job the operator's own (default: the Job waits, and the refusal is reported)")
    parser.add_argument("--release-signing-secret", default=ReleaseSigning.SECRET_NAME,
                        help="Secret in the operator's namespace ($ECC_POD_NAMESPACE, else ecc-system) holding the "
                             f"ed25519 key that signs desired states (key {ReleaseSigning.SECRET_KEY!r}); made on "
                             "first start when absent")
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    parser.add_argument("--log-format", choices=("text", "json"), default="text",
                        help="log lines as text, or as JSON objects (kopf's format: each names the object it is about)")
    args = parser.parse_args(argv)
    from ecc_operator.credentials.node_tls import endpoint_host

    try:
        args.node_credentials_host = endpoint_host(args.node_credentials_url)
    except ValueError as exc:
        parser.error(str(exc))
    if args.priority is None:
        args.priority = random.SystemRandom().randint(1, 2**31 - 1)
    return args


def ensure_peering(api, name: str, namespaces: list[str]) -> None:
    """Create the KopfPeering objects kopf needs for one-active-instance (kopf waits without them)."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    custom = client.CustomObjectsApi(api)
    targets = [("kopfpeerings", ns, "KopfPeering") for ns in namespaces] or [("clusterkopfpeerings", None,
                                                                                "ClusterKopfPeering")]
    for plural, ns, kind in targets:
        body = {"apiVersion": "kopf.dev/v1", "kind": kind, "metadata": {"name": name}}
        try:
            if ns:
                custom.create_namespaced_custom_object("kopf.dev", "v1", ns, plural, body)
            else:
                custom.create_cluster_custom_object("kopf.dev", "v1", plural, body)
        except ApiException as exc:
            if exc.status != 409:
                raise


def configure_logging(log_format: str, verbose: bool) -> None:
    """Log lines on stderr: text, or JSON objects through kopf's own formatter (`--log-format`)."""
    if log_format == "json":
        kopf.configure(verbose=verbose, log_format=kopf.LogFormat.JSON)
    else:
        logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if not verbose:  # kopf logs every timer run at INFO: keep the log readable
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # every probe of /healthz


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.kubeconfig:
        os.environ["KUBECONFIG"] = args.kubeconfig
    configure_logging(args.log_format, args.verbose)

    from kubernetes import client, config

    from ecc_operator import metrics, settings as op_settings
    from ecc_operator.controllers.fleet import handlers as fleet_handlers
    from ecc_operator.credentials import node_tls as node_credentials_tls, nodes as node_credentials
    from ecc_operator.credentials import release_keys, serving_tls
    from ecc_operator.controllers.policy import handlers as policy_handlers  # noqa: F401  (registers its handlers)
    from ecc_operator import workloads
    from ecc_operator.runtime import SHARED
    from ecc_operator.controllers.teacher import handlers as teacher_handlers
    from ecc_workloads.tls import server_context
    from ecc_operator.children import Kube

    try:
        config.load_incluster_config()
    except config.ConfigException:
        config.load_kube_config(config_file=args.kubeconfig)
    kube = Kube(client.ApiClient())
    own_namespace = os.environ.get(RuntimeEnv.POD_NAMESPACE) or SYSTEM_NAMESPACE
    signer = release_keys.ensure(kube, own_namespace, args.release_signing_secret)

    def endpoint_certificate():
        fresh = node_credentials_tls.ensure(kube, own_namespace, args.node_credentials_tls_secret,
                                            args.node_credentials_host)
        # its CA also signs the served teachers' certificates (when the operator made it) and is what
        # agents trust for both
        teacher_handlers.RUNTIME.signing_ca = serving_tls.SigningCA.of(fresh)
        fleet_handlers.trust_ca(fresh.ca_pem)
        return fresh

    teacher_handlers.RUNTIME.ca_secret = f"{own_namespace}/{args.node_credentials_tls_secret}"
    certificate = endpoint_certificate()
    SHARED.kube = kube
    fleet_handlers.configure(signer, node_credentials_url=args.node_credentials_url,
                             node_credentials_ca=certificate.ca_pem)
    SHARED.workloads = workloads.WorkloadSettings(
        builtin_corpora={BITEXT_CORPUS: args.bitext_csv}, kserve_runtime=args.kserve_runtime,
        kserve_storage_container=args.kserve_storage_container,
        release_keys=fleet_handlers.RUNTIME.workload.release_keys,
        allow_unscoped_store_credentials=args.allow_unscoped_store_credentials)
    peering = args.peering or None
    if peering:
        ensure_peering(client.ApiClient(), peering, args.namespace)

    @kopf.on.login()
    def _login(**kwargs):
        # kopf's piggy-backing on the kubernetes client reads $KUBECONFIG at import time;
        # these read it (or the ServiceAccount) now. A login handler must return credentials.
        return kopf.login_with_service_account(**kwargs) or kopf.login_with_kubeconfig(**kwargs)

    @kopf.on.startup()
    def _configure(settings: kopf.OperatorSettings, **_) -> None:
        op_settings.configure(settings, peering_name=peering, priority=args.priority)
        # In a pod bind to its IP (ECC_POD_IP from the downward API), elsewhere to every address.
        metrics.serve(args.metrics_port, addr=os.environ.get(RuntimeEnv.POD_IP) or "0.0.0.0")

    node_credentials_server, renewal = [], []

    @kopf.on.startup()
    async def _serve_node_credentials(**_) -> None:
        if args.node_credentials_port:
            ctx = server_context(certificate.cert_pem, certificate.key_pem,
                                 f"Secret {own_namespace}/{args.node_credentials_tls_secret}")
            node_credentials_server.append(await node_credentials.serve(
                fleet_handlers.node_credentials_broker(), os.environ.get(RuntimeEnv.POD_IP) or "0.0.0.0",
                args.node_credentials_port, ctx, on_result=lambda r: metrics.NODE_CREDENTIALS.labels(r).inc()))
            renewal.append(asyncio.create_task(node_credentials_tls.keep_renewed(ctx, certificate,
                                                                                 endpoint_certificate)))

    @kopf.on.cleanup()
    async def _stop_node_credentials(**_) -> None:
        for task in renewal:
            task.cancel()
        for runner in node_credentials_server:
            await runner.cleanup()

    asyncio.run(
        kopf.operator(
            clusterwide=not args.namespace,
            namespaces=args.namespace or (),
            liveness_endpoint=args.liveness or None,
            peering_name=peering,
            priority=args.priority,
            standalone=peering is None,
        )
    )


if __name__ == "__main__":
    main()

__all__ = ["main", "SYSTEM_NAMESPACE"]

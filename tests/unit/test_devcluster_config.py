"""Unit tests of the local cluster's generated files and pure decisions (no cluster)."""

from __future__ import annotations

import ipaddress
import os
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ecc_devcluster import components as comp
from ecc_devcluster import kubeconfigs, nodespecs, pki, processes
from ecc_devcluster import prometheus as prom
from ecc_devcluster.scale import scale_profile
from ecc_workloads import contracts as c


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> pki.ClusterPKI:
    return pki.generate(tmp_path_factory.mktemp("pki"), "unit")


def _cert(path: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(Path(path).read_bytes())


def test_ca_signs_every_leaf(keys):
    ca = _cert(keys.ca_cert)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    for leaf in (keys.apiserver_cert, keys.admin_cert, keys.controller_manager_cert, keys.scheduler_cert):
        cert = _cert(leaf)
        cert.verify_directly_issued_by(ca)  # raises if not signed by the CA
        assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


def test_apiserver_serving_cert_has_the_contract_sans(keys):
    cert = _cert(keys.apiserver_cert)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {
        "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    }
    # loopback (the host), the gateway's relay in the nodes' fabric, the `kubernetes` Service
    assert san.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address(a) for a in ("127.0.0.1", "10.250.0.1", "10.96.0.1")]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku


def test_client_certs_identify_admin_and_control_plane(keys):
    admin = _cert(keys.admin_cert)
    assert admin.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "system:masters"
    assert ExtendedKeyUsageOID.CLIENT_AUTH in admin.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    cm = _cert(keys.controller_manager_cert)
    assert cm.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:kube-controller-manager"
    sched = _cert(keys.scheduler_cert)
    assert sched.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:kube-scheduler"


def test_service_account_keys_are_a_pair(keys):
    from cryptography.hazmat.primitives import serialization

    private = serialization.load_pem_private_key(Path(keys.sa_private_key).read_bytes(), None)
    public = serialization.load_pem_public_key(Path(keys.sa_public_key).read_bytes())
    sig = private.sign(b"token", padding.PKCS1v15(), hashes.SHA256())
    public.verify(sig, b"token", padding.PKCS1v15(), hashes.SHA256())
    assert oct(Path(keys.sa_private_key).stat().st_mode & 0o777) == "0o600"


def test_kubeconfig_is_loadable_by_the_kubernetes_client(keys, tmp_path):
    from kubernetes import client, config

    doc = kubeconfigs.kubeconfig_document(
        cluster_name="unit", server="https://127.0.0.1:6443", ca_file=keys.ca_cert,
        user="admin", cert_file=keys.admin_cert, key_file=keys.admin_key,
    )
    path = kubeconfigs.write_kubeconfig(tmp_path / "kubeconfig", doc)
    conf = client.Configuration()
    config.load_kube_config(config_file=path, client_configuration=conf)
    assert conf.host == "https://127.0.0.1:6443"
    assert conf.cert_file == keys.admin_cert and conf.ssl_ca_cert == keys.ca_cert


def test_fake_nodes_5000_unique_labelled_and_tainted():
    manifests = [nodespecs.fake_node_manifest(i, 5000) for i in range(5000)]
    names = {m["metadata"]["name"] for m in manifests}
    assert len(names) == 5000
    assert "ecc-edge-fake-0000" in names and "ecc-edge-fake-4999" in names
    first = manifests[0]
    labels = first["metadata"]["labels"]
    assert labels[c.KWOK_MANAGE_LABEL] == c.KWOK_MANAGE_VALUE
    assert labels[c.NODE_KIND_LABEL] == c.NODE_KIND_KWOK
    assert labels[c.EDGE_NODE_ROLE_LABEL] == ""
    assert first["spec"]["taints"] == [{"key": c.EDGE_TAINT_KEY, "value": "", "effect": "NoSchedule"}]
    # Every site gets every capacity class, and the capacity matches the class.
    by_site: dict[str, set[str]] = {}
    for m in manifests:
        lab = m["metadata"]["labels"]
        by_site.setdefault(lab[c.EDGE_SITE_LABEL], set()).add(lab[c.EDGE_CAPACITY_CLASS_LABEL])
        assert m["status"]["capacity"] == nodespecs.CAPACITY_CLASSES[lab[c.EDGE_CAPACITY_CLASS_LABEL]]
    assert set(by_site) == set(nodespecs.EDGE_SITES)
    assert all(classes == set(nodespecs.CAPACITY_CLASSES) for classes in by_site.values())


def test_real_node_plan_labels_taints_and_addresses(tmp_path):
    from ecc_devcluster.nodes.plan import FABRIC_CIDR, POD_CIDR, plan_nodes

    fabric, nodes = plan_nodes("unit", str(tmp_path), cloud_workers=1, edge_nodes=3, cloud_images=["a"], edge_images=["b"])
    assert [n.name for n in nodes] == ["ecc-cloud-0", "ecc-edge-0", "ecc-edge-1", "ecc-edge-2"]
    cloud, edge0 = nodes[0], nodes[1]
    assert c.CLOUD_NODE_ROLE_LABEL in cloud.labels and not cloud.taints and cloud.images == ["a"]
    assert edge0.labels[c.NODE_KIND_LABEL] == c.NODE_KIND_REAL and edge0.images == ["b"]
    assert edge0.taints == [{"key": c.EDGE_TAINT_KEY, "value": "", "effect": "NoSchedule"}]
    assert {n.labels[c.EDGE_CAPACITY_CLASS_LABEL] for n in nodes[1:]} == set(nodespecs.CAPACITY_CLASSES)
    # distinct addresses, pod subnets and link names; all inside the cluster's own networks
    assert len({n.node_ip for n in nodes}) == len({n.pod_cidr for n in nodes}) == len({n.veth_fabric for n in nodes}) == 4
    assert all(ipaddress.ip_address(n.node_ip) in FABRIC_CIDR for n in nodes)
    assert all(ipaddress.ip_network(n.pod_cidr).subnet_of(POD_CIDR) for n in nodes)
    assert all(len(n.veth_fabric) <= 15 for n in nodes)  # IFNAMSIZ
    assert fabric.netns == "ecc-unit-fabric" and edge0.netns == "ecc-unit-ecc-edge-0"
    assert edge0.cgroup_parent == "/ecc-fleet-unit/ecc-edge-0"
    with pytest.raises(ValueError, match="cloud_workers"):
        plan_nodes("unit", str(tmp_path), cloud_workers=-1, edge_nodes=0, cloud_images=[], edge_images=[])


def test_real_node_configs_carry_what_this_machine_needs(tmp_path):
    from ecc_devcluster.nodes import configs
    from ecc_devcluster.nodes.plan import plan_nodes

    fabric, nodes = plan_nodes("unit", str(tmp_path), cloud_workers=1, edge_nodes=1, cloud_images=[], edge_images=[])
    edge = nodes[1]
    toml = configs.to_toml(configs.containerd_config(edge, "localhost/ecc-pause:1"))
    assert 'restrict_oom_score_adj = true' in toml and 'sandbox_image = "localhost/ecc-pause:1"' in toml
    assert f'address = "{edge.containerd_socket}"' in toml and 'BinaryName = "/usr/sbin/runc"' in toml
    import tomllib

    parsed = tomllib.loads(toml)
    assert parsed["plugins"]["io.containerd.grpc.v1.cri"]["cni"]["conf_dir"] == f"{edge.config_dir}/cni"
    kubelet = configs.kubelet_config(edge, fabric, ca_file="/ca.crt", cert_dir="/pki")
    assert kubelet["failCgroupV1"] is False and kubelet["cgroupDriver"] == "cgroupfs"
    assert kubelet["cgroupRoot"] == edge.cgroup_parent and kubelet["resolvConf"] == ""
    assert kubelet["registerWithTaints"] == [{"key": c.EDGE_TAINT_KEY, "value": "", "effect": "NoSchedule"}]
    assert kubelet["imageGCHighThresholdPercent"] == 100  # nothing can be pulled again
    proxy = configs.kube_proxy_config(edge, "/kc")
    assert proxy["mode"] == "iptables" and proxy["conntrack"]["maxPerCore"] == 0  # the host's table untouched
    cni = configs.cni_config(edge)
    assert cni["plugins"][0]["ipam"]["ranges"] == [[{"subnet": edge.pod_cidr, "gateway": edge.pod_gateway}]]
    egress = configs.egress_selector_config("/run/x.sock")
    assert egress["egressSelections"][0]["connection"]["transport"] == {"uds": {"udsName": "/run/x.sock"}}


def test_gateway_parses_proxy_requests_and_allows_only_cluster_networks():
    import ipaddress as ip

    from ecc_devcluster.nodes import gateway

    assert gateway.parse_target("CONNECT 10.250.0.11:10250 HTTP/1.1") == ("CONNECT", "10.250.0.11", 10250, "")
    assert gateway.parse_target("GET http://10.244.1.5:9400/m?x=1 HTTP/1.1") == ("GET", "10.244.1.5", 9400, "/m?x=1")
    assert gateway.parse_target("GET http://10.244.1.5 HTTP/1.1") == ("GET", "10.244.1.5", 80, "/")
    for bad in ("GET /metrics HTTP/1.1", "garbage", "GET https://10.244.1.5/ HTTP/1.1"):
        with pytest.raises(ValueError):
            gateway.parse_target(bad)
    nets = [ip.ip_network("10.250.0.0/24"), ip.ip_network("10.244.0.0/16")]
    assert gateway.allowed("10.244.3.4", nets) and gateway.allowed("10.250.0.13", nets)
    assert not gateway.allowed("127.0.0.1", nets) and not gateway.allowed("8.8.8.8", nets)
    assert not gateway.allowed("example.com", nets)


def test_scale_profile_grows_leases_and_qps_with_the_fleet():
    small, large = scale_profile(20), scale_profile(5000)
    assert large.node_lease_seconds > small.node_lease_seconds
    assert large.node_monitor_grace_seconds > large.node_lease_seconds
    assert small.node_monitor_grace_seconds > small.node_lease_seconds
    assert large.controller_manager_qps > small.controller_manager_qps
    assert large.scheduler_qps > small.scheduler_qps
    with pytest.raises(ValueError, match="fake_nodes"):
        scale_profile(-1)


def _layout(tmp_path, keys, fake_nodes=20) -> comp.Layout:
    ports = comp.Ports(**{f: 20000 + i for i, f in enumerate(comp.Ports.model_fields)})
    return comp.Layout(
        name="unit", state_dir=str(tmp_path), tmpfs_dir="/dev/shm/ecc-dev-unit", bin_dir="/opt/bin",
        python=sys.executable, pki=keys, ports=ports, scale=scale_profile(fake_nodes),
        admin_kubeconfig=str(tmp_path / "kubeconfig"),
        controller_manager_kubeconfig=str(tmp_path / "cm.kubeconfig"),
        scheduler_kubeconfig=str(tmp_path / "sched.kubeconfig"),
        minio_access_key="ak", minio_secret_key="sk", repo_root="/work/main",
        stages_dir=str(Path(comp.__file__).parent / "stages"),
    )


def test_control_plane_flags(tmp_path, keys):
    specs = comp.all_specs(_layout(tmp_path, keys))
    api = specs[comp.APISERVER].argv
    assert "--authorization-mode=Node,RBAC" in api
    assert f"--service-cluster-ip-range={comp.SERVICE_CLUSTER_IP_RANGE}" in api
    assert f"--service-account-signing-key-file={keys.sa_private_key}" in api
    assert any(a.startswith("--enable-admission-plugins=") and "ServiceAccount" in a for a in api)
    assert "--bind-address=127.0.0.1" in api
    assert "--kubelet-preferred-address-types=InternalIP" in api  # never the host's DNS
    assert f"--advertise-address={comp.GATEWAY_IP}" in api  # the `kubernetes` Service: the gateway's relay
    assert any(a.startswith("--egress-selector-config-file=") for a in api)  # nodes reached through the gateway
    etcd = specs[comp.ETCD].argv
    assert "--unsafe-no-fsync" in etcd
    assert all("127.0.0.1" in a for a in etcd if "-urls=" in a)
    assert any(a.startswith("--data-dir=/dev/shm/") for a in etcd)
    cm = specs[comp.CONTROLLER_MANAGER].argv
    assert f"--root-ca-file={keys.ca_cert}" in cm and "--kube-api-qps=100" in cm
    kwok = specs[comp.KWOK].argv
    assert "--manage-nodes-with-label-selector=type=kwok" in kwok and "--cidr=127.240.0.1/16" in kwok
    assert specs[comp.MINIO].env["MINIO_ROOT_PASSWORD"] == "sk"
    assert specs[comp.POD_DISCOVERY].argv[1:3] == ["-m", "ecc_devcluster.podsd"]
    # A Go binary that hangs at start dumps every goroutine into its log (SIGABRT, GOTRACEBACK=all); Python does not
    for name in (comp.ETCD, comp.APISERVER, comp.KWOK, comp.MINIO, comp.PROMETHEUS):
        assert specs[name].stack_dump_signal == signal.SIGABRT and specs[name].env["GOTRACEBACK"] == "all", name
    assert specs[comp.POD_DISCOVERY].stack_dump_signal is None and "GOTRACEBACK" not in specs[comp.POD_DISCOVERY].env
    # Nothing listens on anything but loopback.
    for spec in specs.values():
        for arg in spec.argv:
            flag = arg.split("=")[0]
            if "address" in flag and "address-types" not in flag and flag != "--advertise-address":
                assert "127.0.0.1" in arg, (spec.name, arg)


def test_large_fleet_raises_qps_and_leases(tmp_path, keys):
    layout = _layout(tmp_path, keys, fake_nodes=5000)
    cm = comp.controller_manager_spec(layout).argv
    assert "--kube-api-qps=300" in cm and "--node-monitor-grace-period=1200s" in cm
    assert "--node-lease-duration-seconds=600" in comp.kwok_spec(layout).argv
    assert comp.scheduler_config_document(layout)["clientConnection"]["qps"] == 300


def test_kwok_stage_files_exist_and_cover_the_lifecycle(tmp_path, keys):
    argv = comp.kwok_spec(_layout(tmp_path, keys)).argv
    stage_files = [a.split("=", 1)[1] for a in argv if a.startswith("--config=") and "stages" in a]
    kinds = {}
    for f in stage_files:
        doc = yaml.safe_load(Path(f).read_text())
        assert doc["apiVersion"] == "kwok.x-k8s.io/v1alpha1" and doc["kind"] == "Stage"
        kinds[doc["metadata"]["name"]] = doc["spec"]["resourceRef"]["kind"]
    assert kinds == {
        "ecc-node-initialize": "Node", "ecc-node-heartbeat-with-lease": "Node",
        "ecc-pod-ready": "Pod", "ecc-pod-complete": "Pod", "ecc-pod-delete": "Pod",
    }


def test_component_names_and_aliases():
    assert comp.canonical_component("apiserver") == comp.APISERVER
    assert comp.canonical_component("minio") == comp.MINIO
    assert comp.canonical_component("kubelet@ecc-edge-0") == "kubelet@ecc-edge-0"
    with pytest.raises(ValueError, match="allowed: etcd"):
        comp.canonical_component("kubelet")
    with pytest.raises(ValueError, match="PROCESS@NODE"):
        comp.canonical_component("etcd@ecc-edge-0")


def test_prometheus_config_reads_static_and_pod_targets_and_passes_promtool(tmp_path):
    doc = prom.config_document(file_sd_dir=str(tmp_path / "static"), pod_sd_dir=str(tmp_path / "pods"),
                               etcd_target="127.0.0.1:1", minio_target="127.0.0.1:2", prometheus_target="127.0.0.1:3",
                               pod_proxy_url="http://127.0.0.1:4", minio_ca_file=str(tmp_path / "ca.crt"))
    jobs = {j["job_name"]: j for j in doc["scrape_configs"]}
    assert (jobs["minio"]["scheme"], jobs["minio"]["tls_config"]) == ("https", {"ca_file": str(tmp_path / "ca.crt")})
    assert jobs["ecc-static"]["file_sd_configs"][0]["files"] == [str(tmp_path / "static" / "*.json")]
    assert jobs["ecc-pods"]["file_sd_configs"][0]["files"] == [str(tmp_path / "pods" / "*.json")]
    assert jobs["ecc-pods"]["proxy_url"] == "http://127.0.0.1:4"  # pods are reached through the gateway
    path = tmp_path / "prometheus.yml"
    prom.write_config(str(path), doc)
    import shutil

    assert shutil.which("promtool"), "promtool missing: install Debian's package (`apt-get install -y prometheus`)"
    run = subprocess.run(["promtool", "check", "config", str(path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def _pod(ip="10.244.1.7", scrape="true", port="9000", phase="Running", **extra):
    annotations = {"prometheus.io/scrape": scrape, "prometheus.io/port": port, **extra}
    return {
        "metadata": {"name": "agent-1", "namespace": "fleet", "labels": {"app.kubernetes.io/name": "agent"},
                     "annotations": annotations},
        "spec": {"nodeName": "ecc-edge-0", "containers": [{"name": "a", "ports": [{"containerPort": 8080}]}]},
        "status": {"podIP": ip, "phase": phase},
    }


def test_pod_discovery_keeps_only_annotated_pods_of_real_nodes():
    from ecc_devcluster import podsd

    group = podsd.pod_targets(_pod(**{"prometheus.io/path": "/stats"}))
    assert group["targets"] == ["10.244.1.7:9000"]
    assert group["labels"] == {"job": "ecc-pods", "namespace": "fleet", "pod": "agent-1", "node": "ecc-edge-0",
                               "pod_label_app_kubernetes_io_name": "agent", "__metrics_path__": "/stats"}
    assert podsd.pod_targets(_pod(port=""))["targets"] == ["10.244.1.7:8080"]  # declared container port
    assert podsd.pod_targets(_pod(ip="127.240.0.3")) is None  # KWOK's fake pods serve nothing
    assert podsd.pod_targets(_pod(ip="10.1.2.3")) is None  # nothing outside the pod network
    assert podsd.pod_targets(_pod(scrape="false")) is None
    assert podsd.pod_targets(_pod(phase="Succeeded")) is None
    groups: dict = {}
    assert podsd.apply_event(groups, "ADDED", _pod()) and len(groups) == 1
    assert not podsd.apply_event(groups, "MODIFIED", _pod())  # unchanged: no rewrite
    assert podsd.apply_event(groups, "DELETED", _pod()) and groups == {}


def test_static_targets_must_be_loopback(tmp_path):
    path = prom.add_static_target(str(tmp_path), "demo", ["127.0.0.1:9100"], {"team": "x"})
    assert json.loads(path.read_text()) == [{"targets": ["127.0.0.1:9100"], "labels": {"job": "demo", "team": "x"}}]
    with pytest.raises(ValueError, match="loopback"):
        prom.add_static_target(str(tmp_path), "demo", ["10.0.0.1:9100"])
    with pytest.raises(ValueError, match="target name"):
        prom.add_static_target(str(tmp_path), "bad name", ["127.0.0.1:1"])


def test_processes_spawn_stop_and_find_leftovers(tmp_path):
    marker = tmp_path / "marker-dir"
    marker.mkdir()
    log = tmp_path / "log" / "sleep.log"
    pid, ticks = processes.spawn(
        ["/bin/sh", "-c", f"sleep 60 & sleep 61; # {marker}"], env=processes.base_env({}), cwd=str(tmp_path), log=str(log)
    )
    assert processes.is_alive(pid, ticks)
    assert not processes.is_alive(pid, ticks + 1)  # another start time: not ours
    time.sleep(0.2)
    assert len(processes.group_members(pid)) >= 2  # the shell and its sleeps
    assert pid in processes.find_leftovers([str(marker)])
    assert pid not in processes.find_leftovers([str(marker)[:-1]])  # a prefix of the name is not a match
    assert processes.stop(pid, ticks, timeout_s=5) == "terminated"
    assert not processes.is_alive(pid, ticks) and processes.group_members(pid) == []
    assert processes.find_leftovers([str(marker)]) == []
    assert processes.stop(pid, ticks, timeout_s=1) == "not-running"
    assert "start: /bin/sh" in log.read_text()


def test_stop_kills_a_process_ignoring_sigterm(tmp_path):
    pid, ticks = processes.spawn(
        [sys.executable, "-c", "import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('sig' + 'term-ignored', flush=True); time.sleep(60)"],
        env=processes.base_env({}), cwd=str(tmp_path), log=str(tmp_path / "stubborn.log"),
    )
    deadline = time.monotonic() + 10
    while "sigterm-ignored" not in (tmp_path / "stubborn.log").read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes.stop(pid, ticks, timeout_s=0.5) == "killed"
    assert not processes.is_alive(pid, ticks)


def test_a_hung_process_dumps_its_stacks_into_its_log_before_it_is_stopped(tmp_path):
    log = tmp_path / "hung.log"
    program = ("import faulthandler,signal,time; faulthandler.enable(); "
               "print('wait' + 'ing', flush=True); time.sleep(60)")
    pid, ticks = processes.spawn([sys.executable, "-c", program], env=processes.base_env({}), cwd=str(tmp_path), log=str(log))
    deadline = time.monotonic() + 10
    while "waiting" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes.dump_and_stop(pid, ticks, int(signal.SIGABRT), timeout_s=5) == "dumped"
    assert not processes.is_alive(pid, ticks)
    assert 'File "<string>", line 1' in log.read_text()  # the stack of the hung thread


def test_cluster_names_are_validated():
    from ecc_devcluster import cluster

    assert cluster.validate_name("pytest-123") == "pytest-123"
    for bad in ("", "Default", "a/b", "-x", "x" * 41):
        with pytest.raises(cluster.ClusterError, match="invalid cluster name"):
            cluster.validate_name(bad)


def test_free_ports_are_distinct_and_below_the_ephemeral_range():
    from ecc_devcluster import ports as p

    floor = p.ephemeral_floor()
    ports = p.free_ports(9)
    assert len(set(ports)) == 9 and all(p.LOWEST <= port < floor for port in ports), (ports, floor)


def test_ephemeral_floor_reads_the_kernel_range_and_falls_back(tmp_path):
    from ecc_devcluster import ports as p

    (tmp_path / "range").write_text("40000\t60999\n")
    assert p.ephemeral_floor(tmp_path / "range") == 40000
    assert p.ephemeral_floor(tmp_path / "missing") == 32768


def test_kserve_crds_are_located_in_the_checkout_and_missing_ones_named(tmp_path):
    from ecc_devcluster import wellknown

    files = wellknown.kserve_crd_files(Path(__file__).resolve().parents[2])
    assert any(f.name == "serving.kserve.io_inferenceservices.yaml" for f in files)
    assert "inferenceservices.serving.kserve.io" in wellknown._crd_names(files)
    with pytest.raises(FileNotFoundError, match="kserve-crds"):
        wellknown.kserve_crd_files(tmp_path / "checkout")


def test_cli_help_lists_the_commands():
    run = subprocess.run([sys.executable, "-m", "ecc_devcluster.cli", "--help"], capture_output=True, text=True,
                         cwd=str(Path(__file__).resolve().parents[2]))
    assert run.returncode == 0, run.stderr
    for command in ("up", "down", "status", "env", "stop", "start"):
        assert command in run.stdout


def test_up_names_the_failing_component_shows_its_log_and_stops_the_rest(tmp_path, monkeypatch):
    """The orchestration's failure path, with stand-in executables: etcd exits at once,
    minio would run forever. `up` must name etcd, carry its log tail, stop minio and
    leave no process and no state behind."""
    from ecc_devcluster import cluster, health

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in cluster.REQUIRED_BINARIES:
        script = "#!/bin/sh\necho 'etcd: cannot start: simulated disk failure' >&2\nexit 3\n" if name == "etcd" \
            else "#!/bin/sh\nexec sleep 300\n"
        (bin_dir / name).write_text(script)
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("ECC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(cluster, "resolve_bin_dir", lambda say: bin_dir)
    messages: list[str] = []
    with pytest.raises(health.ComponentFailed) as err:
        cluster.up("unit-fail", fake_nodes=0, cloud_workers=0, edge_nodes=0, say=messages.append)
    assert err.value.component == "etcd"
    assert "simulated disk failure" in err.value.log_tail
    assert "stopping everything" in " ".join(messages)
    assert cluster.load("unit-fail") is None
    assert cluster.leftover_processes("unit-fail") == []
    assert not cluster.tmpfs_dir("unit-fail").exists()


def test_kserve_manifests_take_the_clusters_pki_its_image_and_standard_mode():
    from ecc_devcluster import kserve

    docs = [
        {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "serving-cert"}},
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
         "metadata": {"name": "inferenceservice.serving.kserve.io",
                      "annotations": {"cert-manager.io/inject-ca-from": "kserve/serving-cert"}},
         "webhooks": [{"name": "w", "clientConfig": {"service": {"name": kserve.WEBHOOK_SERVICE}}}]},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "kserve-controller-manager"},
         "spec": {"template": {"spec": {"containers": [
             {"name": "manager", "image": "ko://x", "command": ["/manager"]}, {"name": "kube-rbac-proxy"}]}}}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "inferenceservice-config"},
         "data": {"deploy": '{"defaultDeploymentMode": "Serverless"}',
                  "ingress": '{\n  # a comment\n  "disableIngressCreation": false\n}'}},
    ]
    out = kserve.adapt(docs, ca_pem="CA", cert_pem="CERT", key_pem="KEY", node_selector={"role": ""})
    kinds = [d["kind"] for d in out]
    assert "Certificate" not in kinds  # no cert-manager here
    hook = next(d for d in out if d["kind"] == "MutatingWebhookConfiguration")
    assert hook["webhooks"][0]["clientConfig"]["caBundle"] == "Q0E=" and not hook["metadata"]["annotations"]
    dep = next(d for d in out if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    assert [c["name"] for c in dep["containers"]] == ["manager"] and dep["nodeSelector"] == {"role": ""}
    assert dep["containers"][0]["image"] == kserve.CONTROLLER_IMAGE and dep["containers"][0]["imagePullPolicy"] == "Never"
    cm = next(d for d in out if d["kind"] == "ConfigMap")["data"]
    assert json.loads(cm["deploy"])["defaultDeploymentMode"] == "Standard"
    assert json.loads(cm["ingress"])["disableIngressCreation"] is True
    secret = next(d for d in out if d["kind"] == "Secret")
    assert secret["metadata"]["name"] == kserve.WEBHOOK_SECRET and secret["stringData"] == {"tls.crt": "CERT", "tls.key": "KEY"}


def test_cgroup_walk_skips_a_directory_that_vanishes_mid_walk(tmp_path, monkeypatch):
    """The kubelet removes a container's cgroup while teardown walks the tree (CI on 771d6eb failed there)."""
    from ecc_devcluster.nodes import host

    base = tmp_path / "ecc-cloud-0"
    for d in ("kubepods/burstable/pod1/ctr", "kubepods/besteffort"):
        (base / d).mkdir(parents=True)
    (base / "kubepods/besteffort/cgroup.procs").write_text("4242\n")
    gone = base / "kubepods/burstable/pod1"
    real_scandir = os.scandir

    def scandir_racing_the_kubelet(path):
        if Path(path) == gone:
            (gone / "ctr").rmdir()
            gone.rmdir()
        return real_scandir(path)

    monkeypatch.setattr(host.os, "scandir", scandir_racing_the_kubelet)
    monkeypatch.setattr(host, "cgroup_hierarchies", lambda: [tmp_path])
    dirs = host._cgroup_dirs(base)
    assert gone not in dirs and dirs[-1] == base
    assert dirs.index(base / "kubepods/besteffort") < dirs.index(base / "kubepods")
    assert host.cgroup_pids("/ecc-cloud-0") == {4242}
    (base / "kubepods/besteffort/cgroup.procs").unlink()  # a cgroupfs has no real files to remove
    host.remove_cgroup("/ecc-cloud-0")
    assert not base.exists()

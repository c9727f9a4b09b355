"""The whole loop on the local cluster, with its faults folded into the one cycle.

The chart installs the operator as a pod under its own ServiceAccount. A CloudTeacher is
distilled from base-register utterances (real MiniLM, real torch) and served; an EdgeFleet
covers the three process edge nodes (real `ecc edge-agent`s, relabelled to shifted sites)
and the sixty fake ones (simulated agents); an AdaptationPolicy watches drift. Then:

- revision 1 rolls out to every matched node — the operator pod is killed mid-rollout;
- shifted traffic with feedback goes to the real agents while MinIO is stopped for a
  minute: every request is answered; once it is back every spooled report and delta arrives;
- a poisoned delta joins the round; the policy's trimmed mean keeps it out of the merge;
- the operator pod is killed while the merge-back Job runs: one Job, no delta lost;
- revision 2 rolls out; shifted-site accuracy is higher than before;
- every object the agents wrote parses as its contract model and holds no traffic text.

Nothing here is skipped; a step that does not happen in time fails with what it waited for.
"""

from __future__ import annotations

import time
import uuid

import pytest

from ecc_workloads import contracts as c

from ecc_devcluster import scenario as sc

pytestmark = pytest.mark.cluster

MINIO_OUTAGE_S = 60.0
POISONER = "poisoner-0"


def _say(msg: str) -> None:
    print(f"[e2e] {msg}", flush=True)


def _kill_operator_pod(run: sc.Scenario) -> str:
    pods = run.cl.core.list_namespaced_pod(run.ns, label_selector="app.kubernetes.io/name=ecc-fleet").items
    assert pods, f"no operator pod in {run.ns}"
    name = pods[0].metadata.name
    run.cl.core.delete_namespaced_pod(name, run.ns, grace_period_seconds=0)
    _say(f"killed operator pod {name}")
    return name


def _merge_jobs(run: sc.Scenario) -> list:
    return [j for j in run.cl.batch.list_namespaced_job(run.ns).items
            if (j.metadata.labels or {}).get("app.kubernetes.io/component") == "merge-back"]


@pytest.fixture(scope="module")
def cycle(cluster):
    cfg = sc.ScenarioConfig(namespace=f"e2e-{uuid.uuid4().hex[:6]}", min_updates=4, deadline_minutes=10, timeout_s=420,
                            chart_crds=False)  # other tests of the session apply crds/ with kubectl
    run = sc.Scenario(cluster, cfg, say=_say)
    facts: dict = {}
    try:
        run.install()
        op_pods = run.cl.core.list_namespaced_pod(run.ns, label_selector="app.kubernetes.io/name=ecc-fleet").items
        facts["operator_sa"] = op_pods[0].spec.service_account_name if op_pods else None
        run.distill()

        # revision 1, with the operator killed mid-rollout
        run.cl.apply(sc.fleet_manifest(run.ns))
        run.cl.apply(sc.policy_manifest(run.ns, cfg))
        run.start_sim_agents()
        sc.wait_for(lambda: (run.fleet().get("nodes") or {}).get("onTarget", 0) > 0, 240,
                    "first nodes on revision 1", progress=run.fleet_line, say=_say)
        facts["killed_mid_rollout"] = _kill_operator_pod(run)
        run.wait_rollout(1, "rollout of revision 1 after an operator restart")
        facts["acc_before"] = run.evaluate("before")

        # shifted traffic while the store is down for a minute
        info = cluster
        from ecc_devcluster import cluster as devcluster

        devcluster.stop_component(info.name, "minio")
        t_down = time.monotonic()
        try:
            facts["traffic"] = run.send_traffic()
            left = MINIO_OUTAGE_S - (time.monotonic() - t_down)
            if left > 0:
                time.sleep(left)
            facts["outage_s"] = time.monotonic() - t_down
        finally:
            devcluster.start_component(info.name, "minio", say=_say)
        real_nodes = [n for nodes in run.result.site_nodes.values() for n in nodes]

        def flushed():
            reps = {r.node: r for r in sc.agent_reports(run.cl, run.ns, sc.FLEET) if r.node in real_nodes}
            ok = len(reps) == len(real_nodes) and all(
                r.spool_depth == 0 and r.delta_revision == 1 and r.spool_flushed_total > 0 for r in reps.values())
            return reps if ok else None

        facts["after_outage"] = sc.wait_for(flushed, 240, "every real agent's spool flushed with its delta")
        deltas = run.cl.store.list(f"s3://{run.cl.bucket}/{c.StoreLayout.deltas_prefix(run.ns, sc.FLEET, 1)}")
        facts["real_deltas"] = sorted(u.rsplit("/", 1)[1] for u in deltas)

        # a poisoned delta joins the round (the quorum waits for it: minUpdates 4)
        facts["poison"] = poison_delta(run, real_nodes[0])

        # the operator is killed while the merge-back Job runs
        sc.wait_for(lambda: _merge_jobs(run), 300, "the merge-back Job created",
                    progress=lambda: str(run.policy().get("message")), say=_say)
        facts["killed_mid_merge"] = _kill_operator_pod(run)
        st = run.wait_merge_back()
        facts["merge_jobs"] = [j.metadata.name for j in _merge_jobs(run)]
        facts["policy"] = st
        rev = int(st["lastMergeBack"]["revision"])
        run.wait_rollout(rev, "rollout of the merged revision")
        facts["acc_after"] = run.evaluate("after")
        facts["result"] = run.finish()
        facts["scan"] = sc.scan_agent_objects(run.cl, run.ns, sc.FLEET, run.result.traffic_texts)
        facts["final_reports"] = [r for r in sc.agent_reports(run.cl, run.ns, sc.FLEET) if r.node in real_nodes]
        yield run, facts
    finally:
        try:
            run.teardown()
        finally:
            run.close()


def poison_delta(run: sc.Scenario, honest_node: str) -> dict:
    """One honest delta scaled x50, uploaded as if from one more node."""
    from ecc_workloads.learning import bundles, deltas

    blob = deltas.unpack_upload(  # what agents send is deflated (deltas.pack_upload)
        run.cl.store.get_bytes(f"s3://{run.cl.bucket}/{c.StoreLayout.delta(run.ns, sc.FLEET, 1, honest_node)}"))
    manifest = deltas.verify_upload(blob)
    tensors, _ = bundles.decode_tensors(blob)
    # factors: scale B only (the product then scales x50); full changes: scale them
    poisoned = {k: (v if k.endswith("@A") else v * 50.0) for k, v in tensors.items()}
    manifest = manifest.model_copy(update={"node": POISONER, "update_norm": manifest.update_norm * 50.0})
    data = bundles.encode_tensors(poisoned, {"delta": manifest.model_dump(mode="json")})
    update = deltas.decode_upload(data)
    run.cl.store.put_bytes(f"s3://{run.cl.bucket}/{c.StoreLayout.delta(run.ns, sc.FLEET, 1, POISONER)}", data)
    _say(f"uploaded a poisoned delta as {POISONER} (norm x50)")
    return {"node": POISONER, "delta": update.delta}


def merged_change(run: sc.Scenario, profile: str, delta_keys: dict) -> tuple[float, float]:
    """(L2 norm of revision 2 - revision 1 over the poisoned parameters, norm of the poison)."""
    from ecc_workloads.learning import bundles

    kv = bundles.BucketKeys(run.cl.store)
    fetch = bundles.store_fetcher(kv)
    states = []
    for rev in (1, 2):  # each revision's sub-model as a node loads it (revision 2: revision 1 + patches)
        m = bundles.read_manifest(kv, c.StoreLayout.bundle_manifest(run.ns, sc.TEACHER, rev, profile))
        states.append(bundles.load_submodel(m, fetch).module_state_dicts())
    change = poison = 0.0
    for module, params in delta_keys.items():
        for key, p in params.items():
            w1, w2 = states[0][module][key].double(), states[1][module][key].double()
            change += float((w2 - w1).pow(2).sum())
            poison += float(p.double().pow(2).sum())
    return change ** 0.5, poison ** 0.5


def test_operator_runs_as_a_pod_with_its_own_service_account(cycle):
    _, facts = cycle
    assert facts["operator_sa"] and facts["operator_sa"] != "default"


def test_revision_one_reached_every_matched_node(cycle):
    run, facts = cycle
    assert run.result.matched_nodes >= 53, "3 real + at least 50 simulated agents"


def test_drift_fired_one_merge_back_and_revision_two_rolled_out(cycle):
    run, facts = cycle
    last = facts["policy"]["lastMergeBack"]
    assert last["result"] == "Published" and last["revision"] == 2
    assert len(facts["merge_jobs"]) == 1, f"one merge-back Job despite the operator restart: {facts['merge_jobs']}"
    fleet = facts["result"].fleet_status
    assert fleet["targetRevision"] == 2 and fleet["nodes"]["onTarget"] == fleet["nodes"]["matched"]
    assert facts["result"].teacher_status["revision"] == 2


def test_shifted_sites_are_more_accurate_after_the_merge(cycle):
    _, facts = cycle
    before, after = facts["acc_before"], facts["acc_after"]
    shifted = [s for s in before if s in sc.SHIFTED_SITES]
    assert shifted, before
    mean_b = sum(before[s] for s in shifted) / len(shifted)
    mean_a = sum(after[s] for s in shifted) / len(shifted)
    assert mean_a > mean_b, f"shifted accuracy before {before} after {after}"


def test_agents_kept_answering_while_the_store_was_down(cycle):
    _, facts = cycle
    assert facts["outage_s"] >= MINIO_OUTAGE_S
    for site, v in facts["traffic"].items():
        assert v.get("errors", 0) == 0 and v.get("requests", 0) > 0, (site, v)
    for node, report in facts["after_outage"].items():
        assert report.spool_depth == 0 and report.spool_flushed_total > 0, node


def test_cloud_assist_asked_the_teacher_served_by_kserve(cycle):
    """Over HTTPS: KServe's address rewritten to https (same host, port 80), the certificate issued by
    the operator from its CA, and that CA in the signed desired state the agents checked it with."""
    from kubernetes import client

    from ecc_workloads import release_signing
    from ecc_workloads.sim import agents as simagents

    run, facts = cycle
    teacher = facts["result"].teacher_status
    assert teacher["servingURL"] == f"https://{sc.TEACHER}-serving-predictor.{run.ns}.svc.cluster.local:80", teacher
    assert teacher["servingCertificate"]["secretName"] == f"{sc.TEACHER}-serving-tls", teacher
    assert any(x["type"] == "KServe" and x["status"] == "True" for x in teacher["conditions"]), teacher["conditions"]
    key = c.StoreLayout.desired_state(run.ns, sc.FLEET)
    desired = release_signing.open_document(
        run.cl.store.get_bytes(f"s3://{run.cl.bucket}/{key}"), c.DesiredState,
        release_signing.parse_trusted_keys(simagents.daemonset_release_keys(run.cl.api, run.ns, sc.FLEET)))
    ds = client.AppsV1Api(run.cl.api).read_namespaced_daemon_set(simagents.fleet_agent_name(sc.FLEET), run.ns)
    agent_ca = next(e.value for ctr in ds.spec.template.spec.containers for e in ctr.env or []
                    if e.name == c.AgentEnv.CREDENTIALS_CA)
    assert desired.teacher_url == teacher["servingURL"] and desired.teacher_ca_pem == agent_ca and agent_ca
    reports = facts["final_reports"]
    assert sum(r.assists_total for r in reports) > 0, [(r.node, r.assists_total) for r in reports]
    assert sum(r.assists_failed_total for r in reports) == 0, [(r.node, r.assists_failed_total) for r in reports]


def test_a_real_agent_refuses_unauthenticated_feedback(cycle, cluster):
    """The DaemonSet's agents read their tokens from the fleet's Secret, which the operator made."""
    import httpx

    run, facts = cycle
    eps = [ep for site_eps in run.endpoints().values() for ep in site_eps]
    assert eps and all(ep.token for ep in eps), "the fleet's API Secret gave no token"
    ep = eps[0]
    with httpx.Client(proxy=cluster.gateway_proxy, timeout=30) as client:
        before = client.get(ep.url + c.AgentPaths.STATUS, headers={"authorization": f"Bearer {ep.token}"})
        assert before.status_code == 403, before.text  # feedback scope: no status
        for headers in ({}, {"authorization": "Bearer " + "x" * 43}):
            r = client.post(ep.url + c.AgentPaths.FEEDBACK, json={"text": "cancel my order", "label": "cancel_order"},
                            headers=headers)
            assert r.status_code == 401, r.text
        ok = client.post(ep.url + c.AgentPaths.PREDICT, json={"instances": ["cancel my order"], "learn": False},
                         headers={"authorization": f"Bearer {ep.token}"})
        assert ok.status_code == 200, ok.text


def test_no_delta_lost_and_the_poisoned_one_kept_out(cycle):
    run, facts = cycle
    real = [n for nodes in run.result.site_nodes.values() for n in nodes]
    assert sorted(f"{n}.safetensors" for n in real) == facts["real_deltas"]
    assert facts["policy"]["lastMergeBack"]["updates"] >= len(real)
    change, poison = merged_change(run, "edge", facts["poison"]["delta"])
    assert change < 0.1 * poison, f"the merged change ({change:.3f}) follows the poison ({poison:.3f})"


def test_the_merged_revision_ships_as_patches_to_the_modules_nodes_hold(cycle):
    from ecc_workloads.learning import bundles

    run, _ = cycle
    kv = bundles.BucketKeys(run.cl.store)
    m1, m2 = (bundles.read_manifest(kv, c.StoreLayout.bundle_manifest(run.ns, sc.TEACHER, rev, "edge")) for rev in (1, 2))
    held, kept = {r.sha256 for r in m1.modules}, {r.sha256 for r in m2.modules}
    new = [r for r in m2.modules if r.sha256 not in held]
    replaced = [r for r in m1.modules if r.sha256 not in kept]
    # what a node holds stays, in order, but for a module shipped whole again (a patch of more than half
    # its bytes is no saving: typically the small head)
    assert [r for r in m2.modules if r.sha256 in held] == [r for r in m1.modules if r not in replaced]
    assert all(any(n.name == r.name and n.kind == "module" for n in new) for r in replaced), (replaced, new)
    assert any(r.kind == "patch" and r.name.startswith("block.") for r in new), new
    # a node on revision 1 downloads a small share of the sub-model (whole modules would be ~1/2 of it)
    assert sum(r.bytes for r in new) * 20 <= bundles.bundle_bytes(m1), (new, bundles.bundle_bytes(m1))


def test_every_agent_object_parses_and_holds_no_traffic_text(cycle):
    run, facts = cycle
    assert facts["scan"]["reports"] >= run.result.matched_nodes
    assert facts["scan"]["deltas"] >= 3


def test_every_dashboard_panel_returns_data_from_prometheus(cycle, cluster):
    """The fleet dashboard's queries, against the real Prometheus that scraped the operator
    pod and the real agents during this cycle (promql-parser checks their syntax in the unit
    tests; here each must return at least one series)."""
    import httpx

    from ecc_operator.gen import dashboards

    queries = dashboards.panel_queries(resolved=True)
    assert len(queries) >= 10
    empty = []
    for title, expr in queries:
        def answered(expr=expr):
            body = httpx.get(f"{cluster.prometheus_url}/api/v1/query", params={"query": expr}, timeout=10).json()
            assert body["status"] == "success", (expr, body)
            return body["data"]["result"]
        if not _eventually_data(answered):
            empty.append(f"{title}: {expr}")
    assert not empty, "panels without data:\n" + "\n".join(empty)


def _eventually_data(query, timeout_s: float = 60.0) -> list:
    """Rates need two scrapes after the last traffic: give Prometheus a few intervals."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = query()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(2)


def test_a_replaced_agent_pod_starts_on_the_state_its_predecessor_left(cycle):
    """Last in this module (it replaces a pod): the DaemonSet's pod on a real node is deleted; its
    successor's init container hands over the hostPath state directory the first agent left (0700,
    the agent's user) and the agent becomes ready on it — as on every DaemonSet update."""
    run, _ = cycle
    real = sorted(n for nodes in run.result.site_nodes.values() for n in nodes)
    selector = "app.kubernetes.io/component=edge-agent"
    pods = [p for p in run.cl.core.list_namespaced_pod(run.ns, label_selector=selector).items
            if p.spec.node_name == real[0]]
    assert len(pods) == 1, f"agent pods on {real[0]}: {[p.metadata.name for p in pods]}"
    old = pods[0].metadata.name
    run.cl.core.delete_namespaced_pod(old, run.ns, grace_period_seconds=0)
    _say(f"deleted agent pod {old} on {real[0]}")

    def replaced_and_ready():
        for p in run.cl.core.list_namespaced_pod(run.ns, label_selector=selector).items:
            if p.spec.node_name != real[0] or p.metadata.name == old:
                continue
            init = [s for s in (p.status.init_container_statuses or [])]
            failed = [s.name for s in init if s.state and s.state.terminated and s.state.terminated.exit_code]
            assert not failed and not any(s.restart_count for s in init), \
                f"{p.metadata.name}: init container(s) {failed or [s.name for s in init]} failed on the kept state"
            ready = any(c.type == "Ready" and c.status == "True" for c in (p.status.conditions or []))
            return p.metadata.name if ready else None
        return None

    new = sc.wait_for(replaced_and_ready, 180, f"a new ready agent pod on {real[0]}")
    assert new != old

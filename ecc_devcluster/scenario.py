"""One full learning cycle of the fleet on the local cluster — shared by `make demo` and the
end-to-end test, so that what the demo shows is what CI checks.

    install the chart (the operator runs as a pod under its own ServiceAccount)
    -> CloudTeacher distilled on base-register utterances -> served
    -> EdgeFleet over the real edge nodes (kubelets) and the fake ones (simulated agents)
    -> revision 1 everywhere -> accuracy per site before
    -> shifted-domain traffic with feedback to the real agents -> local LoRA, drift, deltas
    -> AdaptationPolicy fires -> merge-back Job -> gate -> revision 2 published and rolled out
    -> accuracy per site after, bytes moved, merge-back decisions.

Every wait has a timeout and says what it waited for; `say` gets one line per step.
"""

from __future__ import annotations

import csv
import io
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, Field

from ecc_workloads import contracts as c

REPO_ROOT = Path(__file__).resolve().parents[1]
CHART_DIR = REPO_ROOT / "charts" / "ecc-fleet"
GROUP, VERSION = c.API_GROUP, c.API_VERSION
Say = Callable[[str], None]

TEACHER, FLEET, POLICY = "customer-service", "customer-service-edge", "customer-service-learning"
SHIFTED_SITES = ("colloquial", "typos", "keyword")
"""Sites the real edge nodes are relabelled to: the teacher learns the base register only."""


class ScenarioConfig(BaseModel):
    namespace: str = Field("ecc-demo", description="namespace of the resources and the operator")
    release: str = "ecc-fleet"
    intents: int = Field(8, ge=2, description="intents of the corpus slice")
    train_per_intent: int = Field(40, ge=5, description="base-register utterances per intent for the teacher")
    feedback_per_site: int = Field(48, ge=8, description="shifted utterances with feedback per real node")
    eval_per_site: int = Field(48, ge=8, description="held-out shifted utterances per site (never fed back)")
    min_updates: int = Field(3, ge=1, description="merge-back quorum")
    chart_crds: bool = Field(True, description="let the chart install the CRDs (False: apply crds/ with kubectl, "
                             "for clusters whose CRDs another tool already manages)")
    deadline_minutes: int = Field(4, ge=1, description="a round merges what it has after this long")
    seed: int = 7
    timeout_s: float = 420.0


@dataclass
class CycleResult:
    """What one cycle produced; the demo's report and the end-to-end test's assertions read it."""

    revisions: list[dict] = field(default_factory=list)
    acc_before: dict[str, float] = field(default_factory=dict)
    acc_after: dict[str, float] = field(default_factory=dict)
    site_nodes: dict[str, list[str]] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    feedback: dict[str, int] = field(default_factory=dict)
    traffic_texts: list[str] = field(default_factory=list)
    fleet_status: dict = field(default_factory=dict)
    policy_status: dict = field(default_factory=dict)
    teacher_status: dict = field(default_factory=dict)
    bytes_up: int = 0
    bytes_down: int = 0
    whole_model_bytes: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    matched_nodes: int = 0


# ---------------------------------------------------------------------------
# Corpus: the teacher sees the base register; the sites speak shifted ones
# ---------------------------------------------------------------------------
def bitext_csv() -> Path:
    """The Bitext CSV the slices come from: ${ECC_BITEXT_CSV} when set, else the packaged copy."""
    from ecc_workloads.data import datasets

    return Path(datasets.bitext_source())


def bitext_override() -> str:
    """${ECC_BITEXT_CSV}, passed on to the chart so that a teacher of the built-in corpus reads
    the same file; empty: the Jobs read the copy packaged with ecc_workloads."""
    import os

    return os.environ.get(c.RuntimeEnv.BITEXT_CSV, "")


@dataclass
class CorpusSlices:
    teacher_csv: bytes
    intents: list[str]
    feedback: dict[str, list[tuple[str, str]]]
    """site -> (text, intent) rows sent with feedback"""
    evaluation: dict[str, list[tuple[str, str]]]
    """site -> held-out (text, intent) rows, disjoint from feedback"""


def corpus_slices(cfg: ScenarioConfig) -> CorpusSlices:
    from ecc_workloads.data import corpus

    path = bitext_csv()
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: ${c.RuntimeEnv.BITEXT_CSV} must name the Bitext CSV "
                                "(unset: the copy packaged with ecc_workloads)")
    records = corpus.read_records(str(path))
    rule = corpus.BITEXT_DOMAIN_RULE
    rng = random.Random(cfg.seed)
    by: dict[tuple[str, str], list[dict]] = {}
    for r in records:
        dom = rule.domain_of(r.get(rule.column) or "")
        if dom:
            by.setdefault((dom, r["intent"]), []).append(r)
    all_intents = sorted({i for (_, i) in by})
    intents = sorted(rng.sample(all_intents, cfg.intents))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["instruction", "intent", "response"])
    w.writeheader()
    taught: set[str] = set()
    for intent in intents:
        rows = list(by.get(("base", intent), []))
        rng.shuffle(rows)
        for r in rows[: cfg.train_per_intent]:
            w.writerow({"instruction": r["instruction"], "intent": intent, "response": r["response"]})
            taught.add(r["instruction"])
    feedback, evaluation = {}, {}
    per_fb = max(1, cfg.feedback_per_site // len(intents))
    per_ev = max(1, cfg.eval_per_site // len(intents))
    for site in ("base",) + SHIFTED_SITES:
        fb, ev = [], []
        for intent in intents:
            rows = [r for r in by.get((site, intent), []) if r["instruction"] not in taught]
            rng.shuffle(rows)
            fb += [(r["instruction"], intent) for r in rows[:per_fb]]
            ev += [(r["instruction"], intent) for r in rows[per_fb: per_fb + per_ev]]
        rng.shuffle(fb)
        feedback[site], evaluation[site] = fb, ev
    return CorpusSlices(buf.getvalue().encode(), intents, feedback, evaluation)


# ---------------------------------------------------------------------------
# Custom resources of the scenario (the samples, sized for one machine)
# ---------------------------------------------------------------------------
SAMPLES_DIR = REPO_ROOT / "manifests" / "samples"
DELETE = object()
"""In an override: remove this key from the sample."""


def sample(file: str) -> dict:
    """One of manifests/samples/ (the resources users apply), parsed."""
    import yaml

    return yaml.safe_load((SAMPLES_DIR / file).read_text())


def overlay(base: dict, over: dict) -> dict:
    """`base` with `over` merged in: dicts recursively, anything else (lists too) replaced;
    DELETE removes a key."""
    out = dict(base)
    for key, value in over.items():
        if value is DELETE:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = overlay(out[key], value)
        else:
            out[key] = value
    return out


# The samples, sized for one 2-core machine: one 2-block student on a base-register slice (so
# that the sites' registers are a real shift), one tier, fast agent intervals, and a gate sized
# to the small held-out split.
def teacher_manifest(ns: str, corpus_uri: str) -> dict:
    return overlay(sample("cloudteacher.yaml"), {
        "metadata": {"name": TEACHER, "namespace": ns},
        "spec": {
            "corpus": {"uri": corpus_uri, "textColumn": "instruction", "labelColumn": "intent",
                       "responseColumn": "response", "cleaning": {"dedupe": "exact"}, "maxRows": DELETE},
            "students": [{"profile": "edge", "blocks": [0, 1]}],
            "distillation": {"epochs": 2, "batchSize": 32, "backoffLimit": 1, "learningRate": 1e-4,
                             "resources": DELETE},
        },
    })


def fleet_manifest(ns: str) -> dict:
    return overlay(sample("edgefleet.yaml"), {
        "metadata": {"name": FLEET, "namespace": ns},
        "spec": {
            "teacherRef": {"name": TEACHER},
            "tiers": [{"name": "all", "profile": "edge"}],
            "rollout": {"canaryPercent": 10, "healthGate": {"minHealthyPercent": 80, "timeoutSeconds": 300}},
            "agent": {"pollIntervalSeconds": 2, "reportIntervalSeconds": 3, "resources": DELETE},
            "privacy": {"assistBelowConfidence": 0.3, "uploadForm": "factors", "uploadClipNorm": 20.0},
        },
    })


def policy_manifest(ns: str, cfg: ScenarioConfig) -> dict:
    return overlay(sample("adaptationpolicy.yaml"), {
        "metadata": {"name": POLICY, "namespace": ns},
        "spec": {
            "fleetRef": {"name": FLEET},
            "localAdaptation": {"epochs": 4, "learningRate": 2e-3},
            "mergeBack": {"minUpdates": cfg.min_updates, "deadlineMinutes": cfg.deadline_minutes,
                          # The held-out set is the base register's validation split (~32 rows):
                          # one row is 3 points, so tolerate one row on the mean.
                          "evaluationGate": {"minImprovement": -0.04, "maxRegression": 0.1}},
            "cooldownMinutes": 60,
        },
    })


# ---------------------------------------------------------------------------
# Cluster plumbing
# ---------------------------------------------------------------------------
class Cluster:
    """The local cluster's API and store, as the scenario uses them."""

    def __init__(self, info):
        from kubernetes import client

        from ecc_devcluster import kube as devkube

        self.info = info
        self.api = devkube.api_client(info.kubeconfig)
        self.core = client.CoreV1Api(self.api)
        self.custom = client.CustomObjectsApi(self.api)
        self.batch = client.BatchV1Api(self.api)
        self.apps = client.AppsV1Api(self.api)
        from ecc_workloads.store import Store

        self.store = Store(info.store, retry_seconds=5)
        self.bucket = info.store.bucket

    def tool(self, name: str) -> str:
        return str(Path(self.info.bin_dir) / name)

    def run(self, argv: list[str], what: str, timeout: float = 300) -> str:
        env = {"KUBECONFIG": self.info.kubeconfig, "PATH": f"{self.info.bin_dir}:/usr/bin:/bin",
               "HOME": str(Path.home())}
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)
        if proc.returncode != 0:
            raise ScenarioError(f"{what} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
        return proc.stdout

    def get(self, plural: str, ns: str, name: str) -> dict:
        from kubernetes.client.rest import ApiException

        try:
            return self.custom.get_namespaced_custom_object(GROUP, VERSION, ns, plural, name)
        except ApiException as exc:
            if exc.status == 404:
                return {}
            raise

    def status(self, plural: str, ns: str, name: str) -> dict:
        return self.get(plural, ns, name).get("status") or {}

    def apply(self, manifest: dict) -> None:
        plural = {"CloudTeacher": "cloudteachers", "EdgeFleet": "edgefleets",
                  "AdaptationPolicy": "adaptationpolicies"}[manifest["kind"]]
        self._create_or_replace(plural, manifest["metadata"]["namespace"], manifest)

    def _create_or_replace(self, plural: str, ns: str, manifest: dict) -> None:
        from kubernetes.client.rest import ApiException

        try:
            self.custom.create_namespaced_custom_object(GROUP, VERSION, ns, plural, manifest)
        except ApiException as exc:
            if exc.status != 409:
                raise ScenarioError(f"creating {manifest['kind']} {manifest['metadata']['name']}: {exc.body}") from exc
            current = self.get(plural, ns, manifest["metadata"]["name"])
            body = dict(manifest)
            body["metadata"] = {**manifest["metadata"], "resourceVersion": current["metadata"]["resourceVersion"]}
            self.custom.replace_namespaced_custom_object(GROUP, VERSION, ns, plural, manifest["metadata"]["name"],
                                                         body)

    def close(self) -> None:
        self.api.close()


class ScenarioError(RuntimeError):
    pass


def wait_for(check: Callable[[], Any], timeout_s: float, what: str, interval: float = 1.0,
             progress: Callable[[], str] | None = None, say: Say | None = None) -> Any:
    """Poll `check` until truthy; raise ScenarioError naming `what` (and the last progress line)."""
    deadline = time.monotonic() + timeout_s
    last_line, last_said = "", 0.0
    while True:
        value = check()
        if value:
            return value
        if progress is not None:
            last_line = progress()
            if say and last_line and time.monotonic() - last_said > 10:
                say(f"  … {last_line}")
                last_said = time.monotonic()
        if time.monotonic() > deadline:
            raise ScenarioError(f"timed out after {timeout_s:.0f}s waiting for {what}" +
                                (f" (last: {last_line})" if last_line else ""))
        time.sleep(interval)


def prepare_namespace(cl: Cluster, ns: str) -> None:
    from kubernetes.client.rest import ApiException

    try:
        cl.core.create_namespace({"metadata": {"name": ns}})
    except ApiException as exc:
        if exc.status != 409:
            raise
    secret = cl.core.read_namespaced_secret(c.STORE_SECRET_NAME, c.SYSTEM_NAMESPACE)
    body = {"metadata": {"name": c.STORE_SECRET_NAME}, "data": secret.data}
    try:
        cl.core.create_namespaced_secret(ns, body)
    except ApiException as exc:
        if exc.status != 409:
            raise
        cl.core.replace_namespaced_secret(c.STORE_SECRET_NAME, ns, body)


def relabel_real_edge_nodes(cl: Cluster, original: dict[str, str] | None = None) -> dict[str, str]:
    """Give the real edge nodes the shifted sites (node -> site); their previous sites go into
    `original`."""
    nodes = [n for n in cl.core.list_node(label_selector=f"{c.NODE_KIND_LABEL}={c.NODE_KIND_REAL},"
                                                           f"{c.EDGE_NODE_ROLE_LABEL}").items]
    out = {}
    for i, node in enumerate(sorted(nodes, key=lambda n: n.metadata.name)):
        if original is not None:
            original.setdefault(node.metadata.name, (node.metadata.labels or {}).get(c.EDGE_SITE_LABEL, ""))
        site = SHIFTED_SITES[i % len(SHIFTED_SITES)]
        cl.core.patch_node(node.metadata.name, {"metadata": {"labels": {c.EDGE_SITE_LABEL: site}}})
        out[node.metadata.name] = site
    if not out:
        raise ScenarioError("the cluster has no real edge nodes: start it with --edge-nodes 3")
    return out


# ---------------------------------------------------------------------------
# The cycle
# ---------------------------------------------------------------------------
PLURALS = {"teacher": "cloudteachers", "fleet": "edgefleets", "policy": "adaptationpolicies"}


class Scenario:
    """Runs the cycle step by step; each step is a method so the end-to-end test can put its
    faults between them."""

    def __init__(self, info, cfg: ScenarioConfig | None = None, say: Say = print):
        self.info, self.cfg, self.say = info, cfg or ScenarioConfig(), say
        self.cl = Cluster(info)
        self.ns = self.cfg.namespace
        self.result = CycleResult()
        self.slices: CorpusSlices | None = None
        self.sim: subprocess.Popen | None = None
        self.original_sites: dict[str, str] = {}
        self._t0 = time.monotonic()

    # -- bookkeeping ----------------------------------------------------------
    def _phase(self, name: str, since: float) -> None:
        self.result.timings[name] = round(time.monotonic() - since, 1)

    def teacher(self) -> dict:
        return self.cl.status(PLURALS["teacher"], self.ns, TEACHER)

    def fleet(self) -> dict:
        return self.cl.status(PLURALS["fleet"], self.ns, FLEET)

    def policy(self) -> dict:
        return self.cl.status(PLURALS["policy"], self.ns, POLICY)

    def fleet_line(self) -> str:
        st = self.fleet()
        n = st.get("nodes") or {}
        return (f"fleet {st.get('phase')}: target r{st.get('targetRevision')} wave {st.get('rolloutWave')}, "
                f"{n.get('onTarget', 0)}/{n.get('matched', 0)} on target, {n.get('ready', 0)} ready")

    # -- steps ----------------------------------------------------------------
    def install(self) -> None:
        """Namespace, store Secret, the chart (CRDs + operator pod under its ServiceAccount)."""
        t = time.monotonic()
        prepare_namespace(self.cl, self.ns)
        self.result.site_nodes = {}
        for node, site in relabel_real_edge_nodes(self.cl, self.original_sites).items():
            self.result.site_nodes.setdefault(site, []).append(node)
        values = operator_values(self.info, self.ns)
        values["crds.install"] = self.cfg.chart_crds
        if not self.cfg.chart_crds:
            self.cl.run([self.cl.tool("kubectl"), "apply", "--server-side", "--force-conflicts", "-f",
                         str(REPO_ROOT / "crds")], "kubectl apply -f crds/")
        argv = [self.cl.tool("helm"), "upgrade", "--install", self.cfg.release, str(CHART_DIR),
                "--namespace", self.ns, "--wait", "--timeout", "180s"]
        for k, v in values.items():
            argv += ["--set-string" if isinstance(v, str) else "--set", f"{k}={v}"]
        self.say(f"installing the chart {CHART_DIR.name} as release {self.cfg.release!r} in {self.ns}")
        self.cl.run(argv, "helm upgrade --install", timeout=240)
        self._phase("install", t)

    def distill(self) -> None:
        t = time.monotonic()
        self.slices = corpus_slices(self.cfg)
        key = f"scenario-corpora/{self.ns}/base-register.csv"
        uri = f"s3://{self.cl.bucket}/{key}"
        self.cl.store.put_bytes(uri, self.slices.teacher_csv, content_type="text/csv")
        self.say(f"CloudTeacher {TEACHER}: distilling MiniLM on {self.cfg.intents} intents x "
                 f"{self.cfg.train_per_intent} base-register utterances")
        self.cl.apply(teacher_manifest(self.ns, uri))

        def ready():
            st = self.teacher()
            if st.get("phase") == "Degraded":
                raise ScenarioError(f"CloudTeacher Degraded: {st.get('message')}")
            return st if st.get("phase") == "Ready" and int(st.get("revision") or 0) >= 1 else None

        st = wait_for(ready, self.cfg.timeout_s, "CloudTeacher Ready at revision 1",
                      progress=lambda: f"teacher {self.teacher().get('phase')}: {self.teacher().get('message')}",
                      say=self.say)
        self.result.revisions.append({"revision": 1, "source": "distillation", "bundles": st.get("bundles") or []})
        self._phase("distillation + serving", t)

    def deploy_fleet(self) -> None:
        t = time.monotonic()
        self.say(f"EdgeFleet {FLEET} over every edge node; AdaptationPolicy {POLICY}")
        self.cl.apply(fleet_manifest(self.ns))
        self.cl.apply(policy_manifest(self.ns, self.cfg))
        self.start_sim_agents()
        self.wait_rollout(1, "rollout of revision 1")
        self._phase("rollout r1", t)

    def start_sim_agents(self) -> None:
        log = open(Path(self.info.state_dir) / f"sim-agents-{self.ns}.log", "ab")
        argv = [sys.executable, "-m", "ecc_workloads.cli.app", "sim-agents", *sim_agent_args(self.info, self.ns, FLEET,
                                                                                           self.cfg)]
        self.sim = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=sim_env(self.info))

    def stop_sim_agents(self) -> None:
        if self.sim and self.sim.poll() is None:
            self.sim.terminate()
            try:
                self.sim.wait(20)
            except subprocess.TimeoutExpired:
                self.sim.kill()

    def wait_rollout(self, revision: int, what: str) -> dict:
        def done():
            st = self.fleet()
            n = st.get("nodes") or {}
            ok = (int(st.get("targetRevision") or 0) == revision and n.get("matched", 0) > 0
                  and n.get("onTarget", 0) == n.get("matched") and st.get("rolloutWave") in ("Complete", None))
            return st if ok else None

        st = wait_for(done, self.cfg.timeout_s, what, progress=self.fleet_line, say=self.say)
        self.result.matched_nodes = int(st["nodes"]["matched"])
        self.say(f"revision {revision} on all {self.result.matched_nodes} nodes of the fleet")
        return st

    def endpoints(self) -> dict[str, list[str]]:
        from ecc_workloads.sim import traffic

        return traffic.discover_endpoints(self.info.kubeconfig, self.ns, FLEET)

    def evaluate(self, label: str) -> dict[str, float]:
        from ecc_workloads.sim import traffic

        assert self.slices is not None
        eps = self.endpoints()
        rows = {site: self.slices.evaluation[site] for site in eps}
        out = traffic.evaluate_sites(eps, rows, proxy=self.info.gateway_proxy)
        acc = {site: float(v["accuracy"]) for site, v in out.items()}
        self.say(f"accuracy {label}: " + ", ".join(f"{s} {a:.3f}" for s, a in sorted(acc.items())))
        return acc

    def send_traffic(self) -> dict:
        from ecc_workloads.sim import traffic

        t = time.monotonic()
        assert self.slices is not None
        eps = self.endpoints()
        rows = {site: self.slices.feedback[site] for site in eps}
        self.result.traffic_texts = sorted({text for rs in self.slices.feedback.values() for text, _ in rs}
                                           | {text for rs in self.slices.evaluation.values() for text, _ in rs})
        self.say("shifted traffic with feedback to the real agents: " +
                 ", ".join(f"{s} {len(r)}" for s, r in sorted(rows.items())))
        out = traffic.send_traffic(eps, rows, feedback_fraction=1.0, proxy=self.info.gateway_proxy)
        for site, v in out.items():
            self.result.requests[site] = self.result.requests.get(site, 0) + int(v.get("requests", 0))
            self.result.feedback[site] = self.result.feedback.get(site, 0) + int(v.get("feedback", 0))
        self._phase("shifted traffic", t)
        return out

    def wait_merge_back(self) -> dict:
        t = time.monotonic()

        def published():
            st = self.policy()
            last = st.get("lastMergeBack") or {}
            if last.get("result") in ("Rejected", "Failed"):
                raise ScenarioError(f"merge-back {last.get('result')}: {last.get('reason')}")
            return st if last.get("result") == "Published" else None

        def line():
            st = self.policy()
            return (f"policy {st.get('phase')}: drift {st.get('lastDriftScore')}, drifting "
                    f"{st.get('driftingNodes')}, pending updates {st.get('pendingUpdates')}: {st.get('message')}")

        st = wait_for(published, self.cfg.timeout_s, "a merge-back round published", progress=line, say=self.say)
        self.result.policy_status = st
        rev = int(st["lastMergeBack"]["revision"])
        self.say(f"merge-back published revision {rev} ({st['lastMergeBack'].get('updates')} updates)")
        self.result.revisions.append({"revision": rev, "source": "merge-back",
                                      "bundles": self.teacher().get("bundles") or []})
        self._phase("drift + merge-back", t)
        return st

    def finish(self) -> CycleResult:
        self.result.fleet_status = self.fleet()
        self.result.teacher_status = self.teacher()
        self.result.policy_status = self.policy() or self.result.policy_status
        up, down = agent_bytes(self.cl, self.ns, FLEET)
        self.result.bytes_up, self.result.bytes_down = up, down
        self.result.whole_model_bytes = whole_model_bytes(self.cl, self.ns, FLEET, self.result.revisions)
        return self.result

    def run(self) -> CycleResult:
        """The whole cycle, no faults."""
        self.install()
        self.distill()
        self.deploy_fleet()
        self.result.acc_before = self.evaluate("before (revision 1)")
        self.send_traffic()
        st = self.wait_merge_back()
        t = time.monotonic()
        self.wait_rollout(int(st["lastMergeBack"]["revision"]), "rollout of the merged revision")
        self._phase("rollout r2", t)
        self.result.acc_after = self.evaluate("after (merged revision)")
        return self.finish()

    def teardown(self) -> None:
        """Remove what the cycle made (the operator, still running, cleans the store and the
        fleet's store user), uninstall the release, delete the namespace, restore the sites."""
        from kubernetes.client.rest import ApiException

        self.stop_sim_agents()
        for plural, name in (("policy", POLICY), ("fleet", FLEET), ("teacher", TEACHER)):
            try:
                self.cl.custom.delete_namespaced_custom_object(GROUP, VERSION, self.ns, PLURALS[plural], name)
            except ApiException as exc:
                if exc.status != 404:
                    raise
        try:
            wait_for(lambda: not any(self.cl.get(PLURALS[p], self.ns, n) for p, n in
                                     (("policy", POLICY), ("fleet", FLEET), ("teacher", TEACHER))),
                     120, "the cycle's resources deleted")
        finally:
            subprocess.run([self.cl.tool("helm"), "uninstall", self.cfg.release, "--namespace", self.ns,
                            "--kubeconfig", self.info.kubeconfig], capture_output=True, timeout=120)
            self.cl.core.delete_namespace(self.ns)
            for node, site in self.original_sites.items():
                self.cl.core.patch_node(node, {"metadata": {"labels": {c.EDGE_SITE_LABEL: site or None}}})

    def close(self) -> None:
        self.stop_sim_agents()
        self.cl.close()


# ---------------------------------------------------------------------------
# Pieces that follow the chart's values and the tools' options
# ---------------------------------------------------------------------------
def operator_values(info, ns: str) -> dict[str, Any]:
    """Helm values for the local cluster: the chart's defaults (the project's images, which
    `ecc-dev up` loaded into every node) plus the namespace to watch and the store Secret."""
    return {
        "operator.watchNamespaces[0]": ns,
        "workloads.bitextCsv": bitext_override(),
        "store.existingSecret": c.STORE_SECRET_NAME,
    }


def sim_env(info) -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.update(info.env())
    env["PYTHONPATH"] = f"{REPO_ROOT}:{REPO_ROOT / 'operator'}"
    return env


def sim_agent_args(info, ns: str, fleet: str, cfg: ScenarioConfig) -> list[str]:
    return ["--namespace", ns, "--fleet", fleet, "--kubeconfig", info.kubeconfig, "--seed", str(cfg.seed), "--quiet"]


def agent_reports(cl: Cluster, ns: str, fleet: str) -> list[c.AgentReport]:
    prefix = f"s3://{cl.bucket}/{c.StoreLayout.reports_prefix(ns, fleet)}"
    return [c.AgentReport.model_validate_json(cl.store.get_bytes(u)) for u in cl.store.list(prefix)]


def agent_bytes(cl: Cluster, ns: str, fleet: str) -> tuple[int, int]:
    reports = agent_reports(cl, ns, fleet)
    return sum(r.bytes_up for r in reports), sum(r.bytes_down for r in reports)


def whole_model_bytes(cl: Cluster, ns: str, fleet: str, revisions: list[dict]) -> int:
    """What the same roll-outs and uploads would have moved with whole models (the ECLM
    baseline): every node downloads the whole cloud model (the revision's teacher bundle) for
    each revision it reached, and every upload is a whole-model update."""
    whole: dict[int, int] = {}
    for rev in revisions:
        for b in rev.get("bundles") or []:
            if b["profile"] == c.TEACHER_PROFILE:
                whole[rev["revision"]] = int(b.get("bytes") or 0)
    total = 0
    for r in agent_reports(cl, ns, fleet):
        total += sum(size for rev, size in whole.items() if rev <= (r.revision or 0))
        if r.delta_revision is not None:
            total += whole.get(r.delta_revision, 0)
    return total


def scan_agent_objects(cl: Cluster, ns: str, fleet: str, texts: list[str]) -> dict[str, int]:
    """Every object under the fleet's reports/ and deltas/ parses as its contract model and
    holds no traffic text. Returns counts; raises ScenarioError naming the first offender."""
    from ecc_workloads import release_signing
    from ecc_workloads.learning import deltas
    from ecc_workloads.sim import agents as simagents

    counts = {"reports": 0, "deltas": 0}
    for uri in cl.store.list(f"s3://{cl.bucket}/{c.StoreLayout.fleet_prefix(ns, fleet)}"):
        key = uri.split("/", 3)[3]
        data = cl.store.get_bytes(uri)
        if key.endswith("desired-state.json"):  # signed by the key the fleet's agents are given
            keys = simagents.daemonset_release_keys(cl.api, ns, fleet)
            release_signing.open_document(data, c.DesiredState, release_signing.parse_trusted_keys(keys))
            continue
        if "/reports/" in key:
            c.AgentReport.model_validate_json(data)
            counts["reports"] += 1
        elif "/deltas/" in key:
            data = deltas.unpack_upload(data)  # deflated as sent: look for text in what it holds
            deltas.verify_upload(data, forbidden_texts=texts)
            counts["deltas"] += 1
        else:
            raise ScenarioError(f"unexpected object {uri} under the fleet's prefix")
        lowered = data.lower()
        for text in texts:
            if len(text) >= 12 and text.lower().encode() in lowered:
                raise ScenarioError(f"{uri} contains traffic text {text!r}")
    return counts

"""How the EdgeFleet controller takes in agents' reports: the summary from the listing's object
metadata (no GET), a GET for changed reports without a usable summary, nothing for unchanged
ETags; and the pure helpers that read a listed summary."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pytest

from ecc_workloads.sim import agents as sa
from ecc_workloads.contracts import AgentReport, StoreLayout

from ecc_operator.common import ObjectRef
from ecc_operator.controllers.fleet import decisions as fd
from ecc_operator.controllers.fleet import handlers as fh

NS, FLEET = "demo", "shop-edge"
REF = ObjectRef(NS, FLEET, "uid-f", 1)
PREFIX = StoreLayout.reports_prefix(NS, FLEET)
HEADER = "X-Amz-Meta-Ecc-Report"  # as minio-py's listing names it


def report(node: str, seq: int = 1, revision: int | None = 1, **kw) -> AgentReport:
    return AgentReport(node=node, fleet=FLEET, seq=seq, time="2026-12-06T10:00:00Z", state="Ready",
                       revision=revision, drift_score=0.2, bytes_down=100, message="all good", **kw)


# --------------------------------------------------------------------- pure helpers
def test_a_listed_summary_is_found_in_any_case():
    text = sa.report_summary(report("n1"))
    assert fd.listed_summary({"content-type": "application/json", HEADER: text}) == text
    assert fd.listed_summary({"x-amz-meta-ecc-report": text}) == text
    assert fd.listed_summary({"content-type": "application/json"}) is None
    assert fd.listed_summary(None) is None


def test_a_summary_stands_for_the_report_it_was_made_of():
    full = report("n1", seq=4, revision=2, bytes_up=7)
    r = fd.report_from_summary(sa.report_summary(full), "n1")
    assert (r.node, r.seq, r.revision, r.state, r.time, r.drift_score, r.bytes_down, r.bytes_up) == (
        "n1", 4, 2, "Ready", full.time, 0.2, 100, 7)
    assert r.message == ""  # not in the summary


@pytest.mark.parametrize("text", [None, "", "{not json", '{"node": "n1"}',  # incomplete: no seq, time, state
                                  sa.report_summary(report("n1").model_copy(update={"drift_score": 3.0})),
                                  sa.report_summary(report("other")), "x" * 5000])
def test_a_bad_missing_or_foreign_summary_is_not_used(text):
    assert fd.report_from_summary(text, "n1") is None


# --------------------------------------------------------------------- read_reports against a fake store
@dataclass
class Obj:
    object_name: str
    etag: str
    size: int
    metadata: dict = field(default_factory=dict)


class FakeClient:
    def __init__(self, store):
        self.store = store

    def list_objects(self, bucket, prefix="", recursive=False, include_user_meta=False):
        self.store.listings.append(include_user_meta)
        for key in sorted(self.store.objects):
            if key.startswith(prefix):
                data, meta = self.store.objects[key]
                yield Obj(key, hashlib.md5(data).hexdigest(), len(data), dict(meta) if include_user_meta else {})


class FakeStore:
    def __init__(self):
        self.objects: dict[str, tuple[bytes, dict]] = {}
        self.gets: list[str] = []
        self.listings: list[bool] = []
        self.settings = type("S", (), {"bucket": "ecc-fleet"})()
        self.client = FakeClient(self)

    def write(self, r: AgentReport, summary: bool = True, node: str | None = None) -> None:
        meta = {HEADER: sa.report_summary(r)} if summary else {}
        self.objects[StoreLayout.agent_report(NS, FLEET, node or r.node)] = (r.model_dump_json().encode(), meta)

    def get_json(self, uri, model):
        key = uri.split("/", 3)[3]
        self.gets.append(key)
        return model.model_validate_json(self.objects[key][0])


@pytest.fixture(autouse=True)
def small_thresholds(monkeypatch):
    monkeypatch.setattr(fh, "METADATA_LISTING_MIN", 3)
    monkeypatch.setattr(fh, "METADATA_LISTING_SHARE", 0.3)


def test_many_changed_reports_come_from_a_listing_with_metadata_few_by_get():
    store, cache = FakeStore(), fh.ReportCache()
    for i in range(10):
        store.write(report(f"n{i}"))
    reports, errors = fh.read_reports(store, REF, cache)
    assert set(reports) == {f"n{i}" for i in range(10)} and errors == ()
    assert store.gets == [] and store.listings == [False, True]  # all new: listed again with metadata
    assert reports["n0"].revision == 1 and reports["n0"].message == ""  # the summary only
    store.listings.clear()
    reports, _ = fh.read_reports(store, REF, cache)  # nothing changed: one plain listing, nothing read
    assert store.listings == [False] and store.gets == []
    store.write(report("n1", seq=2, revision=2))  # one changed (< 3): a GET beats a second listing
    reports, _ = fh.read_reports(store, REF, cache)
    assert reports["n1"].revision == 2 and reports["n1"].message == "all good" and reports["n0"].revision == 1
    assert store.gets == [StoreLayout.agent_report(NS, FLEET, "n1")] and store.listings == [False, False]
    for i in range(2, 6):  # 4 of 10 changed (> 30 %): the summaries again
        store.write(report(f"n{i}", seq=2, revision=2))
    reports, _ = fh.read_reports(store, REF, cache)
    assert len(store.gets) == 1 and store.listings[-2:] == [False, True]
    assert [reports[f"n{i}"].revision for i in range(7)] == [1, 2, 2, 2, 2, 2, 1]
    del store.objects[StoreLayout.agent_report(NS, FLEET, "n9")]
    reports, _ = fh.read_reports(store, REF, cache)
    assert "n9" not in reports


def test_reports_without_a_usable_summary_are_read_whole():
    store, cache = FakeStore(), fh.ReportCache()
    store.write(report("a"))
    store.write(report("b"), summary=False)  # an agent that writes no summary
    store.objects[StoreLayout.agent_report(NS, FLEET, "c")] = (report("c").model_dump_json().encode(),
                                                              {HEADER: "{broken"})
    store.write(report("d"), node="e")  # the object of node e names node d: refused, as before
    reports, errors = fh.read_reports(store, REF, cache)
    assert store.listings == [False, True]
    assert sorted(store.gets) == [StoreLayout.agent_report(NS, FLEET, n) for n in ("b", "c", "e")]
    assert set(reports) == {"a", "b", "c"} and reports["b"].message == "all good"
    assert len(errors) == 1 and "names node 'd'" in errors[0]
    store.gets.clear()
    fh.read_reports(store, REF, cache)
    assert store.gets == []  # unchanged ETags, the bad one included, are not read again


def test_agents_without_summaries_are_read_by_get_and_metadata_is_tried_again_now_and_then():
    store, cache = FakeStore(), fh.ReportCache()
    seq = 1
    for i in range(4):
        store.write(report(f"a{i}"), summary=False)
    fh.read_reports(store, REF, cache)
    assert store.listings == [False, True] and len(store.gets) == 4 and not cache.with_metadata
    for _ in range(fh.METADATA_PROBE_EVERY):  # every report changes every time: GETs, no metadata listing
        seq += 1
        for i in range(4):
            store.write(report(f"a{i}", seq=seq), summary=False)
        fh.read_reports(store, REF, cache)
    assert store.listings.count(True) == 2  # the first and one try after METADATA_PROBE_EVERY occasions
    assert len(store.gets) == 4 * (fh.METADATA_PROBE_EVERY + 1)
    seq += 1
    for i in range(4):  # the agents now write summaries: found at the next try
        store.write(report(f"a{i}", seq=seq))
    while not cache.with_metadata:
        fh.read_reports(store, REF, cache)
        seq += 1
        for i in range(4):
            store.write(report(f"a{i}", seq=seq))
    gets = len(store.gets)
    fh.read_reports(store, REF, cache)
    assert store.listings[-1] is True and len(store.gets) == gets


def test_a_listing_page_is_parsed_with_its_metadata_and_continuation():
    xml = (b'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
           b"<Name>ecc-fleet</Name><Prefix>p/</Prefix><NextContinuationToken>tok==</NextContinuationToken>"
           b"<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>"
           b"<Contents><Key>p/n1.json</Key><LastModified>2026-12-06T13:50:00.765Z</LastModified>"
           b"<ETag>&#34;1e8c&#34;</ETag><Size>747</Size><StorageClass>STANDARD</StorageClass><UserMetadata>"
           b"<content-type>application/json</content-type><X-Amz-Meta-Ecc-Report>{&#34;node&#34;:&#34;n1&#34;}"
           b"</X-Amz-Meta-Ecc-Report></UserMetadata><Internal><K>1</K><M>0</M></Internal></Contents>"
           b"<Contents><Key>p/n2.json</Key><ETag>\"54b2\"</ETag><Size>12</Size></Contents></ListBucketResult>")
    objects, token = fh.parse_listing(xml)
    assert token == "tok=="
    assert objects == [fh.Listed("p/n1.json", "1e8c", 747, {"content-type": "application/json",
                                                             HEADER: '{"node":"n1"}'}),
                       fh.Listed("p/n2.json", "54b2", 12, {})]
    last, token = fh.parse_listing(xml.replace(b"<IsTruncated>true", b"<IsTruncated>false"))
    assert token is None and len(last) == 2


def test_listing_pages_are_followed_through_the_clients_request_layer():
    page = ('<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IsTruncated>{t}</IsTruncated>'
            "{token}<Contents><Key>p/{k}.json</Key><ETag>e</ETag><Size>1</Size></Contents></ListBucketResult>")
    calls = []

    class Client:
        def _execute(self, method, bucket, query_params):
            calls.append(dict(query_params))
            if "continuation-token" in query_params:
                return type("R", (), {"data": page.format(t="false", token="", k="b").encode()})
            return type("R", (), {"data": page.format(t="true", token="<NextContinuationToken>x</NextContinuationToken>",
                                                      k="a").encode()})

    objs = list(fh.list_reports(Client(), "ecc-fleet", "p/", with_metadata=True))
    assert [o.object_name for o in objs] == ["p/a.json", "p/b.json"]
    assert calls[0]["metadata"] == "true" and calls[0]["list-type"] == "2" and calls[1]["continuation-token"] == "x"
    calls.clear()
    list(fh.list_reports(Client(), "ecc-fleet", "p/", with_metadata=False))
    assert "metadata" not in calls[0]


# --------------------------------------------------------------------- observe: store reads beside API calls
def test_the_store_is_read_while_the_api_server_answers_and_waited_for_on_failure(monkeypatch):
    import threading
    import time as _time

    from ecc_operator.controllers.fleet.node_index import NodeIndex

    spec = {"teacherRef": {"name": "shop"}, "nodeSelector": {"matchLabels": {"edge": ""}},
            "tiers": [{"name": "all", "profile": "s1"}]}
    teacher = {"metadata": {"name": "shop", "namespace": NS}, "spec": {},
               "status": {"revision": 1, "bundles": [{"profile": "s1", "manifestURI": "s3://ecc-fleet/m.json"}]}}
    p = fd.plan(spec, teacher)
    assert p.active
    nodes = NodeIndex()
    nodes.replace([])
    monkeypatch.setattr(fh.RUNTIME, "nodes", nodes)
    monkeypatch.setattr(fh.RUNTIME, "reports", {})
    monkeypatch.setattr(fh.RUNTIME, "report_uids", {})
    monkeypatch.setattr(fh.RUNTIME, "users", type("U", (), {"ensure": lambda *a: "creds"})())
    monkeypatch.setattr(fh, "open_store", lambda kube, ns, t: (FakeStore(), type("S", (), {"endpoint": "x"})(), ""))
    api_called, read_started, read_done = threading.Event(), threading.Event(), threading.Event()

    def slow_read(store, ref, cache):
        read_started.set()
        assert api_called.wait(5)  # runs while the reconcile's thread is in the API calls
        _time.sleep(0.2)
        read_done.set()
        return None, ({"n1": report("n1")}, ()), None

    monkeypatch.setattr(fh, "_read_store", slow_read)

    class Kube:
        fail = False

        def list_custom(self, *a):
            assert read_started.wait(5)
            api_called.set()
            if self.fail:
                raise RuntimeError("API server down")
            return []

        def get_daemonset(self, ns, name):
            return None

    obs, store = fh.observe(Kube(), p, REF, {}, "shop")
    assert read_done.is_set() and set(obs.reports) == {"n1"} and obs.store_credentials == "creds"
    assert store is not None and obs.previous is None and not obs.store_problem
    api_called.clear(), read_started.clear(), read_done.clear()
    kube = Kube()
    kube.fail = True
    with pytest.raises(RuntimeError, match="API server down"):
        fh.observe(kube, p, REF, {}, "shop")
    assert read_done.is_set()  # never left running against the cache when the reconcile gives up


def test_the_real_agent_writes_its_report_with_its_summary_and_nothing_else_with_one():
    from ecc_workloads.contracts import REPORT_SUMMARY_METADATA, report_object_metadata

    full = report("n1", seq=9, revision=3, bytes_up=12)
    key = StoreLayout.agent_report(NS, FLEET, "n1")
    meta = report_object_metadata(key, full.model_dump_json().encode())
    assert fd.report_from_summary(meta[REPORT_SUMMARY_METADATA], "n1") == fd.report_from_summary(
        sa.report_summary(full), "n1")
    assert fd.report_from_summary(meta[REPORT_SUMMARY_METADATA], "n1").seq == 9
    # a delta, the desired state, a report that does not parse: no summary (the operator GETs it)
    assert report_object_metadata(StoreLayout.delta(NS, FLEET, 3, "n1"), b"\x00" * 8) == {}
    assert report_object_metadata(StoreLayout.desired_state(NS, FLEET), full.model_dump_json().encode()) == {}
    assert report_object_metadata(key, b"{not json") == {}
    assert report_object_metadata(f"{PREFIX}.json", full.model_dump_json().encode()) == {}
    assert StoreLayout.is_agent_report(key) and not StoreLayout.is_agent_report(f"x/{key}")

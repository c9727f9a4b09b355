"""The edge agent's local state is durable and bounded, on a real filesystem with real processes:

- ``kill -9`` of an agent process in the middle of model swaps, again and again: every restart
  serves a whole model (revision 1 or 2, bit-for-bit the published one, never a mix), and every
  report it said it spooled and every feedback it accepted is still on disk;
- a full disk (a small tmpfs mounted for the test): the agent keeps serving and reporting, what
  it could not keep it refuses (feedback 503, a load) instead of tearing a file, and it recovers
  when room comes back;
- truncated state files (current.json, report-seq, spool items, the feedback journal);
- a poisoned spool item is dead-lettered (counted in the report and the metrics) and never
  blocks the writes behind it; a store that is merely down never dead-letters anything.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch

from ecc_workloads.agent import model as agent_model
from ecc_workloads.learning import bundles, modular
from ecc_workloads.agent.spool import FeedbackJournal, Outbox, Spool, SpoolLimits
from ecc_workloads.contracts import AgentReport, DesiredState, StoreLayout
from ecc_workloads.agent.runner import AgentConfig, EdgeAgent, LocalAgentStore, StateUnavailable
from ecc_workloads.store import StoreDenied, StoreUnavailable
import releasekit

torch.set_num_threads(1)
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # forked children tokenize too
LABELS = ["cancel_order", "track_order", "get_refund"]
NS, FLEET, TEACHER, NODE = "shop", "edge", "intent", "edge-1"
PROBE = ["please cancel my order", "where is my parcel", "refund the lamp"]
REPORT_KEY = StoreLayout.agent_report(NS, FLEET, NODE)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def advance(self, seconds=120.0):
        self.now += seconds


class Store(LocalAgentStore):
    """A local store whose writes can be switched off (down) or refused for some keys (deny)."""

    def __init__(self, root, down=False):
        super().__init__(root)
        self.down = down
        self.deny: set[str] = set()
        self.deny_all = False
        self.writes: list[str] = []

    def put(self, key, data):
        if self.down:
            raise StoreUnavailable(f"test store is down (put {key})")
        if self.deny_all or key in self.deny:
            raise StoreDenied(f"{key}: AccessDenied")
        super().put(key, data)
        self.writes.append(key)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """Revisions 1 and 2 of a tiny student s0 (they differ in head.s0 only), and the output of
    each on PROBE, computed from the store's bytes."""
    root = tmp_path_factory.mktemp("store")
    store = LocalAgentStore(root)
    model = modular.tiny_encoder(LABELS, num_hidden_layers=2, seed=4)
    model.add_profile("s0", [0])
    keys, manifests = {}, {}
    for rev in (1, 2):
        if rev > 1:
            with torch.no_grad():
                model.heads["s0"].weight.copy_(torch.randn_like(model.heads["s0"].weight) * 0.5)
        res = bundles.write_bundles(model, ["s0"], rev, store)
        keys[rev] = bundles.publish_manifests(store, [res.manifests["s0"]], NS, TEACHER)[0]
        manifests[rev] = res.manifests["s0"]
    expected = {}
    for rev in (1, 2):
        cache = agent_model.ModuleCache(tmp_path_factory.mktemp(f"ref{rev}"))
        cache.fetch_missing(manifests[rev], store.get)
        served = agent_model.load_serving_model(cache, manifests[rev], "small", keys[rev])
        expected[rev] = served.predictor.forward(PROBE)[0]
    assert not torch.allclose(expected[1], expected[2], atol=1e-4)
    sizes = {rev: bundles.bundle_bytes(m) for rev, m in manifests.items()}
    return {"root": root, "keys": keys, "manifests": manifests, "expected": expected, "sizes": sizes}


def _desired(published, revision: int, generation: int) -> DesiredState:
    key = published["keys"][revision]
    tiers = [releasekit.pinned_tier("small", "s0", key, LocalAgentStore(published["root"]).get(key))]
    return DesiredState(namespace=NS, fleet=FLEET, teacher=TEACHER, generation=generation, target_revision=revision,
                        target=tiers, node_tiers={NODE: "small"}, poll_interval_seconds=1,
                        report_interval_seconds=5)


def _set_desired(store_root: Path, desired: DesiredState) -> None:
    LocalAgentStore(store_root).put(StoreLayout.desired_state(NS, FLEET), releasekit.signed(desired))


def _copy_store(published, dest: Path) -> Path:
    shutil.copytree(published["root"], dest)
    return dest


def _agent(state: Path, store, clock=None, **limits) -> EdgeAgent:
    return EdgeAgent(AgentConfig(node=NODE, fleet=FLEET, namespace=NS, state_dir=state, release_keys=releasekit.KEYS,
                                 **limits), store,
                     clock=clock or Clock())


def _assert_whole_model(agent: EdgeAgent, published) -> int:
    """The served model is exactly one published revision (never a mix of two)."""
    model, probs, _ = agent.holder.forward(PROBE)
    assert model.revision in (1, 2)
    assert torch.allclose(probs, published["expected"][model.revision], atol=1e-5), \
        f"revision {model.revision} served, but its outputs are not that revision's"
    return model.revision


# ---------------------------------------------------------------------- kill -9
def _churn(state: Path, store_root: Path, published, cache_cap: int, fd: int, round_no: int) -> None:
    """In a forked child: swap between revisions 1 and 2 as fast as possible, with the store's
    writes down (every report is spooled), and accept feedback; say on ``fd`` what was
    acknowledged, after it was."""
    out = os.fdopen(fd, "w", buffering=1)
    clock = Clock()
    agent = _agent(state, Store(store_root, down=True), clock, module_cache_max_bytes=cache_cap)
    agent.restore()
    rev = agent.holder.current.revision if agent.holder.current else 2
    i = 0
    while True:
        i += 1
        rev = 1 if rev == 2 else 2
        _set_desired(store_root, _desired(published, rev, generation=1000 * round_no + i))
        clock.advance()
        refused = agent.reports_refused
        agent.tick()  # poll, load + swap, report (spooled: the store's writes are down)
        cur = agent.holder.current
        out.write(f"P {cur.revision}\n")
        if agent.reports_refused == refused:
            out.write(f"R {agent.seq}\n")
        for j in range(3):
            text = f"round {round_no} swap {i} item {j} where is it"
            agent.feedback(text, LABELS[j])
            out.write(f"F {cur.revision} {text}\n")


def test_kill_9_during_model_swaps_loses_nothing_acknowledged(published, tmp_path):
    store_root = _copy_store(published, tmp_path / "store")
    state = tmp_path / "state"
    # room for one revision and a bit: every swap evicts the other revision's head and fetches it again
    cache_cap = max(published["sizes"].values()) + 100
    rng = random.Random(7)
    acked_reports: list[int] = []
    restored_revisions = []
    swaps_seen = 0
    for round_no in range(1, 8):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            code = 0
            try:
                os.close(r)
                _churn(state, store_root, published, cache_cap, w, round_no)
            except BaseException:  # noqa: BLE001
                import traceback

                traceback.print_exc()
                code = 3
            finally:
                os._exit(code)
        os.close(w)
        time.sleep(rng.uniform(0.2, 1.5))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        with os.fdopen(r) as fh:
            lines = fh.read().splitlines()
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, \
            f"round {round_no}: the child ended on its own ({status}): {lines[-3:]}"
        # the last complete line only: a line cut by the kill was never acknowledged
        lines = [ln for ln in lines if ln[:2] in ("P ", "R ", "F ")]
        swaps_seen += sum(1 for ln in lines if ln.startswith("P "))
        acked_reports += [int(ln.split()[1]) for ln in lines if ln.startswith("R ")]
        last_p = max((i for i, ln in enumerate(lines) if ln.startswith("P ")), default=None)
        epoch_rev = int(lines[last_p].split()[1]) if last_p is not None else None
        epoch_feedback = [ln.split(" ", 2)[2] for ln in lines[(last_p or 0) + 1:] if ln.startswith("F ")]

        # a restart: a whole model from local disk before the store is asked anything
        agent = _agent(state, Store(store_root, down=True), module_cache_max_bytes=cache_cap)
        try:
            assert not list(state.rglob("*.tmp")), "temp files of the killed writes are cleaned up on start"
            if not agent.restore():
                # killed before any swap was acknowledged (a slow machine): no model was ever promised
                assert swaps_seen == 0, f"round {round_no}: nothing restored ({agent.notes}) after {swaps_seen} swaps"
                continue
            rev = _assert_whole_model(agent, published)
            restored_revisions.append(rev)
            spooled = {AgentReport.model_validate_json(it.read()).seq
                       for it in agent.outbox.spool.items() if it.kind == "report"}
            missing = sorted(set(acked_reports) - spooled)
            assert not missing, f"round {round_no}: reports said spooled but gone: {missing}"
            assert agent.outbox.spool.dead_letters_total == 0
            if epoch_rev is not None and rev == epoch_rev:  # no swap started after the last one it reported
                journal = [b.text for b in agent.learner.buffer.items]
                lost = [t for t in epoch_feedback if t not in journal]
                assert not lost, f"round {round_no}: accepted feedback lost: {lost}"
            assert agent.seq >= max(acked_reports, default=0)
            assert agent.cache.bytes() <= cache_cap
        finally:
            agent.close()
    assert swaps_seen >= 6, f"only {swaps_seen} swaps happened: the kills did not land during swaps"
    assert len(acked_reports) == len(set(acked_reports)), "a report seq was reused after a restart"
    assert acked_reports == sorted(acked_reports), "report seq went back after a restart"


# ---------------------------------------------------------------------- a full disk
@pytest.fixture()
def small_disk(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        res = subprocess.run(["umount", str(mnt)], capture_output=True, text=True)
        if res.returncode != 0:
            subprocess.run(["umount", "-l", str(mnt)], check=False)
        assert str(mnt) not in Path("/proc/mounts").read_text(), "the test's tmpfs is still mounted"


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "ab", buffering=0) as fh:
        for chunk in (1 << 20, 1 << 16, 1 << 12, 1 << 9, 1):
            try:
                while True:
                    fh.write(b"\0" * chunk)
            except OSError:
                pass
    return filler


def test_full_disk_keeps_serving_and_reporting(published, tmp_path, small_disk):
    store = Store(_copy_store(published, tmp_path / "store"))
    _set_desired(store.root, _desired(published, 1, 1))
    clock = Clock()
    state = small_disk / "state"
    agent = _agent(state, store, clock)
    try:
        agent.tick()
        assert agent.holder.current.revision == 1
        store.down = True
        first = agent.report()  # spooled
        assert [it.key for it in agent.outbox.spool.items()] == [REPORT_KEY]
        filler = _fill(small_disk)

        # a report: room is made by dropping the one it supersedes, never by tearing a file
        second = agent.report()
        items = agent.outbox.spool.items()
        assert [AgentReport.model_validate_json(it.read()).seq for it in items] == [second.seq]
        assert second.seq == first.seq + 1 and agent.outbox.spool.dropped_total == 1
        # feedback: accepted only once on disk; the disk says no sooner or later (503)
        accepted = []
        with pytest.raises(StateUnavailable, match="not recorded"):
            for i in range(40):
                text = f"cancel order number {i} " + "x" * 1900
                agent.feedback(text, "cancel_order")
                accepted.append(text)
        assert [b.text for b in agent.learner.buffer.items] == accepted
        # a new revision cannot be fetched: the load is refused, revision 1 keeps serving
        _set_desired(store.root, _desired(published, 2, 2))
        clock.advance()
        store.down = False
        agent.outbox.flush()
        store.down = True  # (the poll needs the store; its writes stay down)
        _fill(small_disk)
        agent.tick()
        assert _assert_whole_model(agent, published) == 1
        assert "refused" in agent.problems.get("bundle", "") and agent.snapshot().state == "Degraded"
        assert agent_model.load_current(state).manifest.revision == 1
        assert not list(state.rglob("*.tmp"))
        assert agent.predict(["where is my parcel"]).revision == 1

        # room again, store back: the swap happens, the spool drains, the report says what happened
        filler.unlink()
        clock.advance(agent_model_retry())
        store.down = False
        agent.tick()
        assert _assert_whole_model(agent, published) == 2
        rep = AgentReport.model_validate_json(LocalAgentStore.get(store, REPORT_KEY))
        assert rep.revision == 2 and rep.spool_depth == 0 and rep.spool_dropped_total >= 1
        assert rep.spool_bytes == 0 and rep.cache_bytes == agent.cache.bytes() > 0
    finally:
        agent.close()
    again = _agent(state, store)
    try:
        assert again.restore() and _assert_whole_model(again, published) == 2
        assert again.seq == agent.seq
    finally:
        again.close()


def agent_model_retry() -> float:
    from ecc_workloads.agent.runner import LOCAL_RETRY_SECONDS

    return LOCAL_RETRY_SECONDS + 1


# ---------------------------------------------------------------------- truncated files
def test_truncated_state_files(published, tmp_path):
    store = Store(_copy_store(published, tmp_path / "store"))
    _set_desired(store.root, _desired(published, 1, 1))
    state = tmp_path / "state"
    agent = _agent(state, store)
    agent.tick()
    for i in range(3):
        agent.feedback(f"where is parcel {i}", "track_order")
    store.down = True
    for _ in range(3):
        agent.report()
    seq = agent.seq
    agent.close()

    current = state / agent_model.CURRENT_FILE
    current.write_bytes(current.read_bytes()[:40])  # current.json cut short: its copy serves
    (state / "report-seq").write_bytes(b"")  # unreadable, and so is its copy:
    (state / "report-seq.bak").write_bytes(b"1")  # seq continues after the spooled reports
    journal = state / FeedbackJournal.FILE
    with open(journal, "ab") as fh:
        fh.write(b'{"text": "half a li')  # a line cut short (never acknowledged)
    items = sorted((state / "spool").glob("*.item"))
    items[0].write_bytes(items[0].read_bytes()[:-10])  # payload cut short
    items[1].write_bytes(b'{"ke')  # header cut short

    again = _agent(state, store)
    try:
        assert again.restore() and _assert_whole_model(again, published) == 1
        assert again.seq == seq
        assert [b.text for b in again.learner.buffer.items] == [f"where is parcel {i}" for i in range(3)]
        assert again.learner.counters.feedback_total == 0  # replayed, not received again
        again.feedback("one more for the parcel", "track_order")  # appends after the repaired tail
        assert FeedbackJournal(state).entries(1, published["keys"][1])[-1]["text"] == "one more for the parcel"
        store.down = False
        again.tick()
        rep = AgentReport.model_validate_json(LocalAgentStore.get(store, REPORT_KEY))
        assert rep.seq == seq + 1 and rep.dead_letters_total == 2 and rep.spool_depth == 0
        assert len(again.outbox.spool.dead_letters()) == 2
        assert "dead-lettered" in rep.message
    finally:
        again.close()

    for name in (agent_model.CURRENT_FILE, agent_model.CURRENT_FILE + agent_model.BACKUP_SUFFIX):
        (state / name).write_bytes(b"{")
    third = _agent(state, store)
    try:
        assert not third.restore()  # both copies unreadable: fetched again from the store
        third.tick()
        assert _assert_whole_model(third, published) == 1
    finally:
        third.close()


# ---------------------------------------------------------------------- a poisoned item
def test_poisoned_spool_item_is_dead_lettered_and_never_blocks(published, tmp_path):
    store = Store(_copy_store(published, tmp_path / "store"))
    _set_desired(store.root, _desired(published, 1, 1))
    agent = _agent(tmp_path / "state", store, dead_letter_after=3)
    try:
        agent.tick()
        store.down = True
        agent.outbox.send("delta", "fleets/shop/edge/deltas/1/not-my-node.safetensors", b"poison")
        agent.report()
        store.down = False
        store.deny = {"fleets/shop/edge/deltas/1/not-my-node.safetensors"}
        before = len(store.writes)
        for _ in range(2):  # refused, below the threshold: order kept, nothing behind it written
            assert agent.outbox.flush() == 0
        assert len(store.writes) == before and agent.outbox.depth == 2
        assert agent.outbox.flush() == 1  # third refusal: dead-lettered, the report behind it delivered
        assert store.writes[before:] == [REPORT_KEY] and agent.outbox.depth == 0
        agent.report()
        rep = AgentReport.model_validate_json(LocalAgentStore.get(store, REPORT_KEY))
        assert rep.dead_letters_total == 1 and rep.spool_depth == 0 and "AccessDenied" in rep.message
        dead = agent.outbox.spool.dead_letters()
        assert len(dead) == 1 and "refused 3 times" in json.loads(dead[0].with_name(dead[0].name + ".why")
                                                                   .read_text())["reason"]
        metrics = agent.metrics.text().decode()
        assert 'ecc_agent_spool_dead_letters_total{fleet="edge",node="edge-1"} 1.0' in metrics
        assert 'ecc_agent_module_cache_bytes{fleet="edge",node="edge-1"}' in metrics
    finally:
        agent.close()


def test_store_down_or_denying_everything_never_dead_letters(tmp_path):
    store = Store(tmp_path / "store", down=True)
    box = Outbox(Spool(tmp_path / "spool", limits=SpoolLimits(dead_letter_after=2)), store.put)
    for i in range(3):
        box.send("delta", f"d/{i}", str(i).encode())
    for _ in range(10):  # down: transient, in order, forever
        assert box.flush() == 0
    store.down, store.deny_all = False, True
    for _ in range(10):  # every write refused: the credentials, not the items
        assert box.flush() == 0
    assert box.spool.dead_letters_total == 0 and box.depth == 3
    store.deny_all = False
    assert box.flush() == 3 and store.writes == ["d/0", "d/1", "d/2"]

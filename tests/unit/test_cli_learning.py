"""`ecc distill` then `ecc merge-back` end to end on a local store (tiny encoder)."""

import json

import torch
from safetensors.torch import save as save_tensors
from typer.testing import CliRunner

import releasekit
from ecc_workloads import release_signing
from ecc_workloads.learning import adapt, bundles, deltas, modular
from ecc_workloads.agent import model as agent_model
from ecc_workloads.cli import learning as cli_learning
from ecc_workloads.learning import pipeline
from ecc_workloads.contracts import DesiredState, JobReport, StoreLayout
from ecc_workloads.data.corpus import Example

from _learning_rows import bitext_rows

torch.set_num_threads(1)
INTENTS = ["cancel_order", "track_order", "get_refund", "recover_password"]


def _write_corpus(path):
    rows = bitext_rows(INTENTS, 100, seed=2)
    parts = {"train": rows[:240], "val": rows[240:320], "test": rows[320:]}
    path.mkdir()
    for name, part in parts.items():
        lines = [Example(id=f"{name}{i}", text=t, label=y, domain="typos" if "Z" in tags else "base").model_dump_json()
                 for i, (t, y, tags) in enumerate(part)]
        (path / f"{name}.jsonl").write_text("\n".join(lines) + "\n")


def test_distill_then_merge_back(tmp_path, monkeypatch):
    corpus, store_dir = tmp_path / "corpus", tmp_path / "store"
    _write_corpus(corpus)
    runner = CliRunner()
    common = ["--store", str(store_dir), "--namespace", "shop", "--teacher", "intent"]
    res = runner.invoke(cli_learning.app, ["distill", "--corpus", str(corpus), *common, "--revision", "1",
                                           "--profile", "s0=0", "--profile", "s01=0,1", "--base-model", "tiny",
                                           "--tiny-layers", "2", "--epochs", "5", "--student-epochs", "2", "--lr", "2e-3",
                                           "--head-lr", "5e-3", "--no-freeze-embeddings", "--max-length", "32", "--int8",
                                           "--prune-vocab"])
    assert res.exit_code == 0, res.output
    report = JobReport.model_validate_json((store_dir / StoreLayout.job_report("shop", "intent", "distill-1")).read_text())
    assert report.succeeded and report.job == "distill" and len(report.bundles) == 3
    assert report.metrics["acc_teacher@all"] > 0.6 and "acc_s0@typos" in report.metrics
    # each phase checks the val split and reports what it did, in the log while it runs too
    for phase, epochs in (("teacher", 5), ("students", 2)):
        assert report.metrics[f"{phase}_planned_steps"] == epochs * 8  # 240 rows, 32 a step
        assert 0 < report.metrics[f"{phase}_best_step"] <= report.metrics[f"{phase}_steps"]
        assert 0 < report.metrics[f"{phase}_best_val"] <= 1
        assert f"event=progress phase={phase} step=1/{epochs * 8} epoch=0.12 loss=" in res.output
        assert f"event=done phase={phase}" in res.output
    assert report.metrics["bytes_s0"] < report.metrics["bytes_teacher"] / 10  # pruned + int8 student
    kv = bundles.LocalDirStore(store_dir)
    ref = json.loads(kv.get(StoreLayout.drift_reference("shop", "intent", 1, "s0")))
    assert ref["kind"] == "DriftReference" and ref["revision"] == 1
    assert not (store_dir / StoreLayout.responses("shop", "intent", 1)).exists()  # no responses in this corpus
    # two devices on profile s0 adapt and upload; one upload is garbage
    s0 = bundles.read_manifest(kv, StoreLayout.bundle_manifest("shop", "intent", 1, "s0"))
    sub = bundles.load_submodel(s0, bundles.store_fetcher(kv))
    tok = modular.load_tokenizer()
    # a student's figure (report, manifest, gates) is that of the bytes nodes load, beside the fp32 one
    test_rows = [Example.model_validate_json(line) for line in (corpus / "test.jsonl").read_text().splitlines()]
    shipped = pipeline.evaluate_slices(sub, tok, test_rows, ["s0"], 32)["s0@all"]
    assert report.metrics["acc_s0@all"] == shipped == s0.metrics["accuracy"]
    assert "acc_fp32_s0@all" in report.metrics and "acc_fp32_teacher@all" not in report.metrics
    for node, seed in (("edge-a", 1), ("edge-b", 2), ("edge-z", 3)):  # edge-z: not a member of the fleet
        rows = [adapt.FeedbackItem(text=t, label=y, source="user") for t, y, _ in bitext_rows(INTENTS, 10, seed=seed)]
        result = adapt.adapt_locally(sub, tok, rows, adapt.LoraSettings(rank=2, epochs=1, lr=1e-4))
        kv.put(StoreLayout.delta("shop", "fleet-1", 1, node), deltas.build_upload(result, s0, node, deltas.UploadSettings()))
    kv.put(StoreLayout.delta("shop", "fleet-1", 1, "edge-c"), b"not a delta")
    # the fleet's members (the operator's desired state): edge-a and edge-b on a tier of profile s0
    key_s0 = StoreLayout.bundle_manifest("shop", "intent", 1, "s0")
    desired = DesiredState(
        namespace="shop", fleet="fleet-1", teacher="intent", generation=1, target_revision=1,
        target=[releasekit.pinned_tier("t", "s0", key_s0, kv.get(key_s0))], node_tiers={"edge-a": "t", "edge-b": "t"})
    kv.put(StoreLayout.desired_state("shop", "fleet-1"), releasekit.signed(desired))
    # only a desired state the operator signed says who the members are
    other = release_signing.public_key_text(release_signing.signer_from_pem(release_signing.generate_private_pem()))
    assert pipeline.read_desired_state(kv, "shop", "fleet-1", other) is None
    assert pipeline.read_desired_state(kv, "shop", "fleet-1", releasekit.KEYS_TEXT) == desired
    # edge-a's delta copied under another node's key
    kv.put(StoreLayout.delta("shop", "fleet-1", 1, "edge-y"), kv.get(StoreLayout.delta("shop", "fleet-1", 1, "edge-a")))
    # an upload too large to read (refused from the listing) and a factor bomb (refused from its header)
    monkeypatch.setattr(deltas, "MAX_UPLOAD_BYTES", 1024 * 1024)
    kv.put(StoreLayout.delta("shop", "fleet-1", 1, "edge-d"), b"\0" * (1024 * 1024 + 1))
    honest = deltas.unpack_upload(kv.get(StoreLayout.delta("shop", "fleet-1", 1, "edge-a")))
    meta = json.loads(honest[8:8 + int.from_bytes(honest[:8], "little")])["__metadata__"]
    q = "block.0/attention.self.query.weight"
    kv.put(StoreLayout.delta("shop", "fleet-1", 1, "edge-e"), save_tensors(
        {f"{q}@A": torch.zeros(1, 100_000), f"{q}@B": torch.zeros(100_000, 1)}, metadata=meta))
    res = runner.invoke(cli_learning.app, ["merge-back", *common, "--fleet", "fleet-1", "--revision", "1",
                                           "--candidate-revision", "2", "--profile", "teacher", "--profile", "s0",
                                           "--profile", "s01", "--holdout", str(corpus), "--method", "median",
                                           "--min-improvement", "-0.05", "--max-slice-drop", "0.2", "--max-length", "32",
                                           "--release-keys", releasekit.KEYS_TEXT])
    assert res.exit_code == 0, res.output
    report = JobReport.model_validate_json((store_dir / StoreLayout.job_report("shop", "fleet-1", "merge-back-1")).read_text())
    assert report.succeeded and report.metrics["updates_accepted"] == 2 and report.metrics["updates_rejected"] == 5
    for node in ("edge-c", "edge-d", "edge-e", "edge-y", "edge-z"):
        assert node in report.message, report.message
    said = " ".join(res.output.split())  # rich wraps long lines
    assert "node edge-z is not a member of fleet shop/fleet-1" in said, said
    assert "claims to be node 'edge-a'" in said, said
    assert "median" in report.message  # 2 updates: the median is their mean, and the report says so
    assert report.metrics["gate_passed"] == 1.0, report.message
    assert sorted(report.bundles) == sorted(StoreLayout.candidate_manifest("shop", "intent", 2, p) for p in ("teacher", "s0", "s01"))
    cand = bundles.read_manifest(kv, StoreLayout.candidate_manifest("shop", "intent", 2, "s0"))
    assert cand.revision == 2
    before, after = {m.name: m.sha256 for m in s0.modules}, {m.name: m.sha256 for m in cand.modules}
    assert sorted(after) == sorted(before)
    assert {n for n in after if after[n] != before[n]} == {"block.0", "head.s0"}  # only what the devices adapted
    # the gate scored the candidate's students as nodes will load and compute with them (pruned, int8 inference)
    held_rows = [Example.model_validate_json(line) for line in (corpus / "val.jsonl").read_text().splitlines()]
    shipped_s0 = bundles.load_submodel(cand, bundles.store_fetcher(kv))
    assert bundles.ships_int8(cand)
    served_s0 = bundles.serving_form(shipped_s0, int8=True)
    assert report.metrics["candidate_s0@all"] == pipeline.evaluate_slices(served_s0, tok, held_rows, ["s0"],
                                                                               32)["s0@all"]
    # the revision ships its change as patches: every module a node holds stays, each changed one gets a patch
    for m in (s0, cand):
        assert bundles.module_identity(m) == {ref.name: ref.sha256 for ref in m.modules}  # what uploads name
    chain = bundles.module_chains(cand)["block.0"]
    assert [r.kind for r in chain] == ["module", "patch"] and chain[0] == bundles.module_chains(s0)["block.0"][0]
    # a patch worth more than half its module is no saving: the tiny head (4 labels) ships whole again
    head = bundles.module_chains(cand)["head.s0"]
    assert [r.kind for r in head] == ["module"] and head[0].sha256 != bundles.module_identity(s0)["head.s0"]
    new_bytes = chain[1].bytes + head[0].bytes
    assert report.metrics["download_bytes_s0"] == new_bytes
    assert report.metrics["bundle_bytes_s0"] == bundles.bundle_bytes(cand)
    # a node holding revision 1 downloads exactly the patches, and runs the model the gate scored
    cache = agent_model.ModuleCache(tmp_path / "node")
    cache.fetch_missing(s0, kv.get)
    assert cache.fetch_missing(cand, kv.get) == new_bytes
    served = agent_model.load_serving_model(cache, cand, "t", "k", max_length=32)
    edge = served.base
    cloud_s0, edge_s0 = shipped_s0.state_dict(), edge.state_dict()
    assert all(torch.equal(cloud_s0[k], edge_s0[k]) for k in cloud_s0)
    texts = [row.text for row in held_rows]
    ids, mask = modular.tokenize(tok, texts, 32)
    with torch.no_grad():
        scored = torch.softmax(served_s0(ids, mask, head="s0"), -1)
    assert torch.equal(served.predictor.forward(texts)[0], scored)  # the node computes what the gate scored
    # ... which equals the cloud's own sub-model of the new revision within the int8 rounding of its student
    # bundle, the same change added on both sides
    teacher_1, teacher_2 = (bundles.load_submodel(bundles.read_manifest(kv, key), bundles.store_fetcher(kv))
                            for key in (StoreLayout.bundle_manifest("shop", "intent", 1, "teacher"),
                                        StoreLayout.candidate_manifest("shop", "intent", 2, "teacher")))
    q = "attention.self.query.weight"
    cloud_w, edge_w = teacher_2.module("block.0").state_dict()[q], edge.module("block.0").state_dict()[q]
    assert not torch.equal(cloud_w, teacher_1.module("block.0").state_dict()[q])  # it did change
    assert torch.allclose(edge_w, cloud_w, atol=float(cloud_w.abs().amax()) / 127)
    change_cloud = cloud_w - teacher_1.module("block.0").state_dict()[q]
    change_edge = edge_w - sub.module("block.0").state_dict()[q]
    assert torch.allclose(change_edge, change_cloud, atol=1e-6)


def test_distill_failure_writes_a_failed_report(tmp_path):
    res = CliRunner().invoke(cli_learning.app, ["distill", "--corpus", str(tmp_path / "nope"), "--store", str(tmp_path / "s"),
                                                "--namespace", "shop", "--teacher", "t", "--revision", "1", "--base-model", "tiny"])
    assert res.exit_code == 1
    report = JobReport.model_validate_json((tmp_path / "s" / StoreLayout.job_report("shop", "t", "distill-1")).read_text())
    assert not report.succeeded and "ecc corpus prepare" in report.message


def test_students_are_grouped_by_how_their_bundles_are_written(tmp_path):
    from ecc_workloads.contracts import StudentProfile

    students = [StudentProfile(profile="a", blocks=[0], prune_vocabulary=False), StudentProfile(profile="b", blocks=[0, 1], int8=False, prune_vocabulary=False),
                StudentProfile(profile="c", blocks=[0, 2])]
    groups = pipeline.student_bundle_groups(students)
    assert groups == {(True, False): ["a"], (False, False): ["b"], (True, True): ["c"]}
    res = CliRunner().invoke(cli_learning.app, ["distill", "--corpus", str(tmp_path), "--store", str(tmp_path),
                                                "--namespace", "n", "--teacher", "t", "--revision", "1",
                                                "--profile", "a=0", "--int8-profile", "zz"])
    assert res.exit_code == 2 and "unknown profiles" in res.output and "'zz'" in res.output


def test_reply_corpus_keeps_rows_with_a_response_and_serving_reads_it_back():
    from ecc_workloads.serving import teacher as serving

    rows = [Example(id="a", text="cancel order {{ORDER_ID}}", label="cancel_order", domain="base",
                    response="I can help cancel order {{Order Number}}."),
            Example(id="b", text="hello", label="greet", domain="base")]
    data = pipeline.reply_corpus(rows)
    parsed = serving.parse_responses(data.decode(), "responses.jsonl")
    assert [(r.instruction, r.intent, r.response) for r in parsed] == [
        ("cancel order {{ORDER_ID}}", "cancel_order", "I can help cancel order {{Order Number}}.")]
    assert pipeline.reply_corpus(rows[1:]) == b""


def test_distill_in_few_label_mode_learns_over_the_unlabelled_rows(tmp_path):
    rows = bitext_rows(INTENTS, 40, seed=4)
    labelled, rest = [], []
    for intent in INTENTS:
        mine = [r for r in rows if r[1] == intent]
        labelled += mine[:6]
        rest += mine[6:]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    parts = {"train": labelled, "val": rest[:20], "test": rest[20:60], "unlabelled": rest[60:]}
    for name, part in parts.items():
        lines = [Example(id=f"{name}{i}", text=t, label="" if name == "unlabelled" else y).model_dump_json()
                 for i, (t, y, _) in enumerate(part)]
        (corpus / f"{name}.jsonl").write_text("\n".join(lines) + "\n")
    store_dir = tmp_path / "store"
    res = CliRunner().invoke(cli_learning.app, [
        "distill", "--corpus", str(corpus), "--store", str(store_dir), "--namespace", "shop", "--teacher", "intent",
        "--revision", "1", "--profile", "s0=0", "--base-model", "tiny", "--tiny-layers", "2", "--student-epochs", "1",
        "--lr", "2e-3", "--head-lr", "5e-3", "--no-freeze-embeddings", "--max-length", "32"])
    assert res.exit_code == 0, res.output
    report = JobReport.model_validate_json((store_dir / StoreLayout.job_report("shop", "intent", "distill-1")).read_text())
    m = report.metrics
    assert m["few_label"] == 1 and m["train_rows_unlabelled"] == len(parts["unlabelled"])  # 6 a label: auto
    assert m["teacher_pairs"] == 20 * 2 * len(labelled)  # the SetFit default: 20 iterations
    # the students' epoch covers the labelled and the unlabelled rows
    assert m["students_planned_steps"] == -(-(len(labelled) + len(parts["unlabelled"])) // 32)
    assert "few-label mode: 24 labelled rows over 4 intents" in res.output
    # three rounds of self-training (the default): the teacher fine-tuned on the labelled rows and at most
    # 40 x r a predicted intent of its confident labels of the unlabelled ones in round r
    kept = [m[f"self_training_{r}_pseudo_labelled"] for r in (1, 2, 3)]
    assert 0 < kept[0] <= kept[1] <= kept[2] <= len(parts["unlabelled"])
    assert m["self_training_1_planned_steps"] == 3 * -(-(len(labelled) + kept[0]) // 32)
    assert "self_training_4_pseudo_labelled" not in m and "teacher-self-training-3" in res.output
    res = CliRunner().invoke(cli_learning.app, [
        "distill", "--corpus", str(corpus), "--store", str(store_dir), "--namespace", "shop", "--teacher", "intent",
        "--revision", "3", "--profile", "s0=0", "--base-model", "tiny", "--tiny-layers", "2", "--student-epochs", "1",
        "--max-length", "32", "--self-training-rounds", "0"])
    assert res.exit_code == 0, res.output
    report = JobReport.model_validate_json((store_dir / StoreLayout.job_report("shop", "intent", "distill-3")).read_text())
    assert report.metrics["few_label"] == 1 and not any(k.startswith("self_training") for k in report.metrics)
    res = CliRunner().invoke(cli_learning.app, ["distill", "--corpus", str(corpus), "--store", str(store_dir),
                                                "--namespace", "shop", "--teacher", "intent", "--revision", "2",
                                                "--few-label", "maybe", "--base-model", "tiny"])
    assert res.exit_code == 2 and "training.few_label: Input should be 'auto', 'on' or 'off'" in res.output

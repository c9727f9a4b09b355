"""The typed Job contract: what the operator builds from a CloudTeacher is what the Job reads.

A spec the API server accepts (the CRD models carry its CEL rules and bounds) must never fail in
a Job: the Job specs embed the very models of the resource (contracts.CleaningSpec, SplitsSpec,
StudentProfile, TrainingSpec), and the workload's own conversions of them must accept every value.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ecc_workloads.cli import app as cli
from ecc_workloads.data import prepare
from ecc_workloads.learning import distill, fewshot
from ecc_workloads.data import splits
from ecc_workloads.contracts import (CorpusPrepareJob, DistillJob, JobReport, RuntimeEnv, TrainingSpec,
                                     parse_job_spec)
from ecc_workloads.data.corpus import Example
from ecc_operator import workloads
from ecc_operator.common import ObjectRef
from ecc_operator.controllers.teacher import decisions as td
from ecc_operator.api.cloudteacher import CloudTeacherSpec

REF = ObjectRef(namespace="shop", name="intent", uid="u-1", generation=1)

_floats = dict(allow_nan=False, allow_infinity=False)
splits_st = st.fixed_dictionaries({
    "train": st.floats(0, 1, exclude_min=True, **_floats), "validation": st.floats(0, 1, **_floats),
    "test": st.floats(0, 1, **_floats), "stratify": st.sampled_from(["label", "label+domain", "domain"]),
    "seed": st.integers(0, 2**31)})
cleaning_st = st.fixed_dictionaries({}, optional={
    "scrubPII": st.booleans(), "dedupe": st.sampled_from(["none", "exact", "near"]),
    "minLength": st.integers(0, 1000), "minWords": st.integers(0, 100), "keepUnlabelled": st.booleans()})
training_st = st.fixed_dictionaries({}, optional={
    "epochs": st.floats(0, 50, exclude_min=True, **_floats), "studentEpochs": st.floats(0, 50, exclude_min=True, **_floats),
    "fewLabel": st.sampled_from(["auto", "on", "off"]), "patience": st.integers(0, 20),
    "batchSize": st.integers(1, 1024), "learningRate": st.floats(0, 1, exclude_min=True, **_floats),
    "headLearningRate": st.floats(0, 1, exclude_min=True, **_floats), "maxLength": st.integers(8, 512),
    "temperature": st.floats(0, 20, exclude_min=True, **_floats), "alpha": st.floats(0, 1, **_floats),
    "freezeEmbeddings": st.booleans(), "seed": st.integers(0, 2**31)})
students_st = st.lists(
    st.builds(lambda name, blocks, int8, prune: {"profile": name, "blocks": sorted(blocks), "int8": int8,
                                                 "pruneVocabulary": prune},
              st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True), st.sets(st.integers(0, 5), min_size=1),
              st.booleans(), st.booleans()),
    min_size=1, max_size=4, unique_by=lambda s: s["profile"])


def _examples(n: int = 40) -> list[Example]:
    return [Example(id=f"{i:03d}", text=f"text {i}", label=f"l{i % 3}", domain=("base", "typos")[i % 2])
            for i in range(n)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(splits_st, cleaning_st, training_st, students_st, st.one_of(st.none(), st.integers(1, 10_000_000)))
def test_a_spec_the_api_server_accepts_cannot_fail_validation_in_a_job(split, cleaning, training, students, max_rows):
    raw = {"model": {"source": "minilm-l6"}, "students": students, "distillation": training,
           "corpus": {"uri": "s3://ecc-fleet/c.csv", "textColumn": "t", "labelColumn": "l", "splits": split,
                      "cleaning": cleaning, **({"maxRows": max_rows} if max_rows else {})}}
    try:
        spec = CloudTeacherSpec.model_validate(raw)  # the CRD models: the API server's bounds and CEL rules
    except ValueError:
        assume(False)
    report = "s3://ecc-fleet/reports/x.json"
    built = (td.corpus_prepare_job(REF, spec, 3, report, workloads.WorkloadSettings()), td.distill_job(REF, spec, 3, report))
    prep, dist = (parse_job_spec(workloads.job_spec_json(job)) for job in built)  # as the container reads them
    assert (prep, dist) == built
    # every conversion the workload makes of them accepts what the resource allowed
    assert prepare.corpus_spec(prep).cleaning == spec.corpus.cleaning
    parts = splits.split(_examples(), prep.splits)
    assert sum(map(len, parts.values())) <= 40
    t = dist.training
    assert distill.TrainSettings.from_spec(t, t.epochs).lr == spec.distillation.learning_rate
    assert distill.TrainSettings.from_spec(t, t.students_epochs, confidence_weighted=True).epochs == \
        (spec.distillation.student_epochs or spec.distillation.epochs)
    fewshot.ContrastiveSettings(max_length=t.max_length, seed=t.seed, freeze_embeddings=t.freeze_embeddings)
    assert [s.profile for s in dist.students] == [s["profile"] for s in students]


merge_back_st = st.fixed_dictionaries({}, optional={
    "aggregation": st.sampled_from(["fedavg", "trimmed-mean", "median"]),
    "trimFraction": st.floats(0, 0.5, exclude_max=True, **_floats),
    "mergeCoefficient": st.floats(0, 1, exclude_min=True, **_floats), "minUpdates": st.integers(1, 100000),
    "minNodes": st.integers(1, 100000), "maxUpdateNorm": st.floats(0, 1e6, exclude_min=True, **_floats),
    "evaluationGate": st.fixed_dictionaries({"minImprovement": st.floats(-1, 1, **_floats),
                                             "maxRegression": st.floats(0, 1, **_floats)})})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(merge_back_st, st.integers(8, 512))
def test_a_policy_the_api_server_accepts_cannot_fail_validation_in_its_merge_back_job(merge_back, max_length):
    from ecc_operator.controllers.policy import decisions as pd
    from ecc_operator.api.adaptationpolicy import AdaptationPolicySpec

    from ecc_workloads.learning import merge

    try:
        policy = AdaptationPolicySpec.model_validate({"fleetRef": {"name": "edge"}, "mergeBack": merge_back})
    except ValueError:
        assume(False)
    teacher = CloudTeacherSpec.model_validate({"students": [{"profile": "s1", "blocks": [1]}],
                                               "distillation": {"maxLength": max_length}})
    ref = ObjectRef("shop", "adapt", "u", 1)
    job = pd.merge_back_job(ref, policy, "edge", "intent", teacher, 1, 2, ["teacher", "s1"], "s3://b/r.json",
                            workloads.WorkloadSettings())
    parsed = parse_job_spec(workloads.job_spec_json(job))
    assert parsed == job and parsed.min_updates == policy.merge_back.floor_of_nodes
    settings = merge.MergeSettings.from_job(parsed)
    assert settings.max_slice_drop == policy.merge_back.evaluation_gate.max_regression
    assert settings.gate_tolerance == max(0.0, -policy.merge_back.evaluation_gate.min_improvement)


def test_the_job_and_the_resource_share_one_set_of_defaults():
    spec = CloudTeacherSpec.model_validate({"students": [{"profile": "s1", "blocks": [1]}]})
    job = td.distill_job(REF, spec, 1, "s3://b/r.json")
    assert job.training == TrainingSpec()
    assert job.training.epochs == 3.0 and job.training.learning_rate == 1e-4  # the measured recipe (docs/benchmarks.md)
    from ecc_workloads.cli import learning as cli_learning

    assert cli_learning._TRAINING == {k: v.default for k, v in TrainingSpec.model_fields.items()}


def _corpus_file(tmp_path) -> str:
    lines = ["text,intent"] + [f'"cancel order number {i} please, now {"x" * i}",cancel' for i in range(20)] + \
            [f'"where is parcel {i}, asked {"y" * i}",track' for i in range(20)]
    path = tmp_path / "c.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_ecc_job_runs_the_corpus_preparation_its_spec_describes(tmp_path):
    out = tmp_path / "out"
    job = CorpusPrepareJob(source=_corpus_file(tmp_path), text_column="text", label_column="intent", out=str(out),
                           splits={"train": 0.5, "validation": 0.25, "test": 0.125, "stratify": "label"})
    result = CliRunner().invoke(cli.app, ["job"], env={RuntimeEnv.JOB_SPEC: workloads.job_spec_json(job)})
    assert result.exit_code == 0, result.output
    rows = {name: len((out / f"{name}.jsonl").read_text().splitlines()) for name in ("train", "val", "test")}
    assert rows == {"train": 20, "val": 10, "test": 5}  # fractions below 1 leave the rest out
    assert JobReport.model_validate_json((out / "report.json").read_text()).succeeded


@pytest.mark.parametrize("spec, problem", [
    ({"kind": "DistillJob", "corpus": "c", "store": "s", "namespace": "n", "teacher": "t", "revision": 1,
      "training": {"epochs": 0}}, "training.epochs: Input should be greater than 0"),
    ({"kind": "CorpusPrepareJob", "source": "x.csv", "out": "o", "splits": {"train": 0.9, "validation": 0.2}},
     "splits: Value error, train: train + validation + test must not exceed 1"),
    ({"kind": "MergeJob"}, "does not match any of the expected tags"),
])
def test_ecc_job_refuses_a_bad_spec_with_a_failed_report_naming_the_field(tmp_path, spec, problem):
    report = tmp_path / "report.json"
    result = CliRunner().invoke(cli.app, ["job"], env={RuntimeEnv.JOB_SPEC: json.dumps(spec),
                                                       RuntimeEnv.REPORT_URI: str(report)})
    assert result.exit_code == 2
    written = JobReport.model_validate_json(report.read_text())
    assert not written.succeeded and problem in written.message and RuntimeEnv.JOB_SPEC in written.message


def test_ecc_job_without_a_spec_says_where_it_belongs():
    result = CliRunner().invoke(cli.app, ["job"], env={RuntimeEnv.JOB_SPEC: ""})
    assert result.exit_code == 2 and f"{RuntimeEnv.JOB_SPEC} is not set" in result.output


def test_the_distill_job_spec_round_trips_through_json():
    job = DistillJob(corpus="s3://b/c", store="s3://b", namespace="n", teacher="t", revision=2,
                     students=[{"profile": "s024", "blocks": [0, 2, 4], "int8": False}], training={"studentEpochs": 1.5})
    assert parse_job_spec(workloads.job_spec_json(job)) == job
    assert json.loads(workloads.job_spec_json(job))["training"]["studentEpochs"] == 1.5  # camelCase on the wire


def test_a_spec_whose_kind_is_not_a_name_is_refused_with_a_report(tmp_path):
    report = tmp_path / "report.json"
    result = CliRunner().invoke(cli.app, ["job"], env={RuntimeEnv.JOB_SPEC: json.dumps({"kind": ["DistillJob"]}),
                                                       RuntimeEnv.REPORT_URI: str(report)})
    assert result.exit_code == 2 and not JobReport.model_validate_json(report.read_text()).succeeded

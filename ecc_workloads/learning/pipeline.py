"""The learning Jobs as pipelines over one Job spec: `run_distill` (contracts.DistillJob) and
`run_merge_back` (contracts.MergeBackJob). `ecc job` runs them on the spec the operator hands a Job
(`$ECC_JOB_SPEC`), `ecc distill` / `ecc merge-back` on one built from their options. Both read and
write the store (or a local directory with the same key layout) and always write a
contracts.JobReport, also on failure, so the operator can read the outcome."""

from __future__ import annotations

import copy
import json
import math
import time
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console

from ecc_workloads.contracts import (
    DistillJob,
    JobReport,
    MergeBackJob,
    StoreLayout,
    TrainingSpec,
)
from ecc_workloads.job_reports import report_target, write_failure, write_success

console = Console(stderr=True)


MAX_DELTAS_READ = 10_000
"""Deltas one merge-back round reads at most (one per node of a fleet); the rest are reported."""


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
            raise ValueError(f"store {target!r}: give s3://bucket (no key) or a local directory")
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


def student_bundle_groups(students) -> dict[tuple[bool, bool], list[str]]:
    """Students (StudentProfile) grouped by how their bundles are written: (int8, pruned vocabulary) -> names."""
    groups: dict[tuple[bool, bool], list[str]] = {}
    for s in students:
        groups.setdefault((s.int8, s.prune_vocabulary), []).append(s.profile)
    return groups


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


def _self_training(model, tokenizer, x, y, unlabelled: list[str], t: TrainingSpec, validation) -> dict[str, dict]:
    """The few-label teacher's rounds of pseudo-labelling, a progress line each: phase name -> its figures."""
    from ecc_workloads import progress
    from ecc_workloads.learning import distill, fewshot

    reporters: dict[int, progress.StepReporter] = {}

    def reporter_for(r: int, rows: int) -> progress.StepReporter:
        reporters[r] = progress.StepReporter(f"teacher-self-training-{r}", math.ceil(rows / t.batch_size))
        return reporters[r]

    settings = fewshot.SelfTrainingSettings(rounds=t.self_training_rounds)
    rounds = fewshot.self_train(model, tokenizer, x, y, unlabelled, settings,
                                distill.TrainSettings.from_spec(t, t.epochs), validation, reporter_for)
    if len(rounds) < settings.rounds:
        console.print(f"self-training: {len(rounds)} of {settings.rounds} rounds (no further unlabelled row reaches "
                      f"confidence {settings.min_confidence})")
    return {f"self_training_{r.round}": {"pseudo_labelled": float(r.pseudo_labelled),
                                         **_phase_figures(r.log, reporters[r.round])} for r in rounds}


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


def run_distill(job: DistillJob) -> None:
    """The distillation `job` describes (`ecc distill` and `ecc job`); always writes a JobReport."""
    import random

    import torch

    from ecc_workloads import progress
    from ecc_workloads.data.corpus import UNLABELLED_SPLIT
    from ecc_workloads.learning import bundles, fewshot, modular
    from ecc_workloads.learning import distill as dist

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
            phases.update(_self_training(model, tok, x, y, [e.text for e in unlabelled], t, validation))
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
        write_success(job, target, console)
    except Exception as exc:
        write_failure("distill", started, exc, target, console)
        raise SystemExit(1) from exc


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
        write_success(job, target, console)
    except Exception as exc:
        write_failure("merge-back", started, exc, target, console)
        raise SystemExit(1) from exc

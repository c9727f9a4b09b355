"""The store wrapper and the corpus reader against the local cluster's real MinIO."""

from __future__ import annotations

import io
import json
import socket
import time
import urllib.request

import pytest

from ecc_workloads.data import corpus, datasets
from ecc_workloads.contracts import JobReport, StoreSettings
from ecc_workloads.store import BadStoreUri, KeyNotFound, Store, StoreUnavailable, parse_s3_uri
from ecc_workloads.tls import client_context

pytestmark = pytest.mark.cluster


@pytest.fixture()
def store(cluster, store_client):
    return Store(cluster.store, retry_seconds=10)


@pytest.fixture()
def prefix(cluster):
    return f"s3://{cluster.store.bucket}/tests/store-s3/{int(time.time() * 1000)}"


def test_bytes_json_models_list_exists_presign(store, prefix):
    store.put_bytes(f"{prefix}/a.bin", b"\x00\x01abc")
    assert store.get_bytes(f"{prefix}/a.bin") == b"\x00\x01abc"
    report = JobReport(job="corpus-prepare", succeeded=True, metrics={"rows_out": 3.0})
    store.put_json(f"{prefix}/r.json", report)
    assert store.get_json(f"{prefix}/r.json", JobReport) == report
    store.put_json(f"{prefix}/d/x.json", {"k": [1, 2]})
    assert store.get_json(f"{prefix}/d/x.json") == {"k": [1, 2]}
    assert store.list(prefix + "/") == [f"{prefix}/a.bin", f"{prefix}/d/x.json", f"{prefix}/r.json"]
    assert store.exists(f"{prefix}/a.bin") and not store.exists(f"{prefix}/missing")
    with pytest.raises(KeyNotFound, match="missing"):
        store.get_bytes(f"{prefix}/missing")
    url = store.presign_get(f"{prefix}/a.bin", expires_seconds=60)
    assert url.startswith("https://")
    with urllib.request.urlopen(url, timeout=10, context=client_context(store.settings.ca_pem)) as resp:
        assert resp.read() == b"\x00\x01abc"


def test_read_bitext_from_s3_matches_local(store, store_client, cluster, prefix):
    local = datasets.bitext_csv()
    data = local.read_bytes()
    key = parse_s3_uri(f"{prefix}/bitext_customer_support.csv")
    store_client.put_object(key.bucket, key.key, io.BytesIO(data), len(data))
    rows = corpus.read_records(f"{prefix}/bitext_customer_support.csv", store=store)
    assert len(rows) == 4514
    assert rows == corpus.read_records(str(local))


def test_prepare_reads_and_writes_s3(store, store_client, cluster, prefix, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from ecc_workloads.cli.corpus import app

    src = f"{prefix}/in/tiny.jsonl"
    lines = [json.dumps({"t": f"please cancel order {1000 + i} now {'x' * (i + 1)}", "l": "cancel"}) for i in range(12)]
    lines += [json.dumps({"t": f"where is my parcel number {i} {'y' * i}", "l": "track"}) for i in range(12)]
    store.put_bytes(src, ("\n".join(lines) + "\n").encode())
    for name, value in cluster.store.as_env().items():
        monkeypatch.setenv(name, value)
    out = f"{prefix}/out"
    result = CliRunner().invoke(app, ["prepare", src, "--out", out, "--text-col", "t", "--label-col", "l"])
    assert result.exit_code == 0, result.output
    report = store.get_json(f"{out}/report.json", JobReport)
    assert report.succeeded and report.job == "corpus-prepare"
    assert set(store.list(out + "/")) >= {f"{out}/{n}" for n in ("train.jsonl", "val.jsonl", "test.jsonl", "datacard.json", "datacard.md")}
    card = store.get_json(f"{out}/datacard.json")
    assert card["labels"] == {"cancel": 12, "track": 12}


def test_unreachable_store_raises_store_unavailable_naming_endpoint():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    settings = StoreSettings(endpoint=f"127.0.0.1:{port}", access_key="k", secret_key="s")
    store = Store(settings, retry_seconds=1.5, connect_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match=f"127.0.0.1:{port}"):
        store.get_bytes("s3://ecc-fleet/anything.json")
    assert time.monotonic() - started < 15  # bounded retry budget


def test_malformed_uri_is_named():
    with pytest.raises(BadStoreUri, match="s3:/bucket"):
        parse_s3_uri("s3:/bucket/key")
    with pytest.raises(BadStoreUri, match="no object key"):
        parse_s3_uri("s3://bucket")

"""Image sizes: per image and per layer, compressed (what a registry ships and a node pulls) and
unpacked, and how much of each is the CUDA build of torch.

    python benchmarks/images.py --out benchmark-results/images     # after `make images`

Reads the OCI layout `make images` wrote (``ecc_devcluster.images``); prints a table and writes
``images.json``. The uncompressed size of a layer is counted by streaming it through gunzip; the
CUDA share by summing the layer's files under site-packages/{nvidia,triton,cuda*} and torch's
CUDA libraries. The CPU-wheel estimate is the image minus that share (PyTorch's CPU wheel index
cannot be reached here, so the CPU image is not built).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ecc_devcluster import images  # noqa: E402

SITE = re.compile(r"^(?:\./)?opt/venv/lib/python3\.\d+/site-packages/(?P<top>[^/]+)(?P<rest>/.*)?$")
CUDA_TOPS = re.compile(r"^(nvidia|triton|cuda|cuda_bindings|cuda_pathfinder|cuda_toolkit)$|^(nvidia_|triton-|cuda_)")
TORCH_CUDA_LIB = re.compile(r"^/lib/lib(torch_cuda|c10_cuda|torch_nvshmem|caffe2_nvrtc|torch_cuda_linalg)")


def is_cuda(top: str, rest: str) -> bool:
    return bool(CUDA_TOPS.search(top)) or (top == "torch" and bool(TORCH_CUDA_LIB.match(rest or "")))


def scan_layer(path: Path) -> dict:
    """Unpacked bytes of a gzip'd layer, and how many of them are CUDA."""
    unpacked = cuda = 0
    tops: dict[str, int] = {}
    with gzip.open(path, "rb") as raw, tarfile.open(fileobj=raw, mode="r|") as tar:
        for member in tar:
            if not member.isfile():
                continue
            unpacked += member.size
            m = SITE.match(member.name)
            if m:
                tops[m["top"]] = tops.get(m["top"], 0) + member.size
                if is_cuda(m["top"], m["rest"] or ""):
                    cuda += member.size
    biggest = dict(sorted(tops.items(), key=lambda kv: -kv[1])[:8])
    return {"unpacked": unpacked, "cuda": cuda, "largest_packages": biggest}


def measure(record: images.BuiltImage) -> dict:
    layout = Path(record.layout)
    layers = []
    for layer in record.layers:
        algo, _, hexd = layer.digest.partition(":")
        scanned = scan_layer(layout / "blobs" / algo / hexd)
        layers.append({"digest": layer.digest, "compressed": layer.size, **scanned,
                       "created_by": re.sub(r"\s+", " ", layer.created_by)[:100]})
    total = {k: sum(l[k] for l in layers) for k in ("compressed", "unpacked", "cuda")}
    return {"name": record.name, "key": record.key, "reference": record.reference, **total,
            "cpu_estimate_unpacked": total["unpacked"] - total["cuda"], "layers": layers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmark-results/images")
    args = parser.parse_args()
    records = [images.read_record(name) for name in images.IMAGES]
    missing = [n for n, r in zip(images.IMAGES, records) if r is None]
    if missing:
        raise SystemExit(f"not built: {', '.join(missing)} — run `make images` first")
    results = [measure(r) for r in records]
    mb = 1e6
    print(f"{'image':16} {'compressed MB':>14} {'unpacked MB':>12} {'CUDA MB':>9} {'CPU-wheel est. MB':>18}")
    for r in results:
        print(f"{r['name']:16} {r['compressed'] / mb:14.0f} {r['unpacked'] / mb:12.0f} {r['cuda'] / mb:9.0f} "
              f"{r['cpu_estimate_unpacked'] / mb:18.0f}")
    for r in results:
        print(f"\n{r['name']} layers:")
        for layer in r["layers"]:
            print(f"  {layer['compressed'] / mb:9.1f} MB gz {layer['unpacked'] / mb:9.1f} MB  {layer['created_by'][:70]}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "images.json").write_text(json.dumps(results, indent=2))
    print(f"\nwrote {out / 'images.json'}")


if __name__ == "__main__":
    main()

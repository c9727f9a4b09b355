"""`ecc-operator` / `python -m ecc_operator`: run the operator with kopf."""

from __future__ import annotations

import argparse
import asyncio

import kopf

from ecc_workloads.contracts import SYSTEM_NAMESPACE


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ecc-operator", description=__doc__)
    parser.add_argument("--namespace", action="append", default=[],
                        help="namespace(s) to watch; default: all namespaces")
    parser.add_argument("--liveness", default="http://0.0.0.0:8080/healthz",
                        help="kopf's liveness endpoint URL")
    parser.add_argument("--peering", default=None,
                        help="kopf peering object name (one active instance); default: standalone")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    asyncio.run(
        kopf.operator(
            clusterwide=not args.namespace,
            namespaces=args.namespace or None,
            liveness_endpoint=args.liveness,
            peering_name=args.peering,
            standalone=args.peering is None,
        )
    )


if __name__ == "__main__":
    main()

__all__ = ["main", "SYSTEM_NAMESPACE"]

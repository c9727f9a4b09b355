"""`python -m ecc_devcluster.nodes.cri_ready SOCKET`: exit 0 once a containerd's CRI answers.

containerd creates its socket before its CRI server is initialised; a kubelet started in that
gap fails its first call ("server is not initialized yet") and exits. This asks what the kubelet
asks first, RuntimeService.Version, with an empty request (no generated stubs needed: an empty
protobuf message is zero bytes).
"""

from __future__ import annotations

import sys

VERSION_METHOD = "/runtime.v1.RuntimeService/Version"


def cri_answers(socket: str, timeout_s: float = 2.0) -> tuple[bool, str]:
    import grpc

    with grpc.insecure_channel(f"unix://{socket}") as channel:
        call = channel.unary_unary(VERSION_METHOD, request_serializer=lambda b: b, response_deserializer=lambda b: b)
        try:
            call(b"", timeout=timeout_s)
        except grpc.RpcError as exc:
            return False, f"{exc.code().name}: {exc.details()}"
    return True, "ok"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m ecc_devcluster.nodes.cri_ready SOCKET", file=sys.stderr)
        return 2
    ok, why = cri_answers(argv[0])
    if not ok:
        print(why, file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

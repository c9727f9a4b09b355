"""Create the fake edge nodes (KWOK makes them Ready) and wait for nodes to be Ready."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ecc_devcluster import kube, nodespecs

Progress = Callable[[int, int], None]
"""progress(done, total)"""


def create_fake_nodes(api, count: int, *, workers: int = 16, progress: Progress | None = None) -> None:
    """Create `count` fake edge nodes concurrently; existing ones are left alone."""
    if count <= 0:
        return
    done = 0
    errors: list[str] = []

    def create(index: int) -> None:
        manifest = nodespecs.fake_node_manifest(index, count)
        for attempt in range(5):
            try:
                kube.request(api, "POST", "/api/v1/nodes", body=manifest, ok=(200, 201, 202, 409))
                return
            except kube.KubeError as exc:
                if exc.status in (429, 500, 503, 504) and attempt < 4:
                    time.sleep(0.2 * (attempt + 1))
                    continue
                raise

    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="fake-node")
    try:
        futures = [pool.submit(create, i) for i in range(count)]
        for fut in futures:
            try:
                fut.result()
            except Exception as exc:  # collected and raised together below
                errors.append(str(exc))
            done += 1
            if progress and (done % 50 == 0 or done == count):
                progress(done, count)
    finally:
        # On Ctrl-C (or any error) do not keep creating nodes in the background.
        pool.shutdown(wait=False, cancel_futures=True)
    if errors:
        raise RuntimeError(f"{len(errors)} of {count} fake nodes could not be created; first: {errors[0]}")


def wait_nodes_ready(
    api,
    *,
    label_selector: str,
    expected: int,
    timeout_s: float,
    progress: Progress | None = None,
) -> float:
    """Block until `expected` nodes matching label_selector are Ready; seconds waited."""
    start = time.monotonic()
    interval = 0.5 if expected <= 200 else 2.0
    ready = 0
    while True:
        nodes = kube.list_nodes(api, label_selector)
        ready = sum(kube.node_is_ready(n) for n in nodes)
        if progress:
            progress(ready, expected)
        if ready >= expected:
            return time.monotonic() - start
        if time.monotonic() - start > timeout_s:
            not_ready = [n["metadata"]["name"] for n in nodes if not kube.node_is_ready(n)][:10]
            raise TimeoutError(
                f"only {ready}/{expected} nodes with {label_selector} Ready after {timeout_s:.0f}s "
                f"(found {len(nodes)}; not ready e.g. {not_ready})"
            )
        time.sleep(interval)

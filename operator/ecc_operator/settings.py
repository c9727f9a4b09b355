"""kopf settings of the ECC operator, applied in the startup handler.

* progress and diff-base live in annotations: the CRD schemas are structural and would
  prune `status.kopf`, so kopf's default status storage would silently lose its progress;
* watch timeouts: the server closes each watch after `server_timeout` and the client gives
  up on a silent connection after `client_timeout`, so a half-dead connection is noticed;
* peering: one active operator per namespace set (KopfPeering CRDs are in crds/);
* Events are posted (for `kubectl describe`) from INFO upwards;
* handler errors are retried with growing delays instead of a tight loop.
"""

from __future__ import annotations

import logging

import kopf

# The operator's own annotations on custom resources, and its finalizer.
ANNOTATION_PREFIX = "ecc.dev"
FINALIZER = "ecc.dev/cleanup"

WATCH_SERVER_TIMEOUT_S = 300
WATCH_CLIENT_TIMEOUT_S = 330
WATCH_CONNECT_TIMEOUT_S = 10
ERROR_BACKOFFS_S = [5, 10, 20, 40, 80, 160, 300]
PEERING_LIFETIME_S = 20
"""A crashed instance blocks its successor for at most this long (kopf waits for its peer record to expire)."""


def configure(settings: kopf.OperatorSettings, *, peering_name: str | None, priority: int = 0) -> None:
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=ANNOTATION_PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=ANNOTATION_PREFIX, key="last-handled-configuration",
    )
    settings.persistence.finalizer = FINALIZER
    settings.watching.server_timeout = WATCH_SERVER_TIMEOUT_S
    settings.watching.client_timeout = WATCH_CLIENT_TIMEOUT_S
    settings.watching.connect_timeout = WATCH_CONNECT_TIMEOUT_S
    settings.watching.reconnect_backoff = 1.0
    settings.posting.enabled = True
    settings.posting.level = logging.WARNING  # handler chatter stays in the log; our own Events are explicit
    settings.posting.reporting_component = "ecc-operator"
    settings.queueing.error_delays = ERROR_BACKOFFS_S
    settings.execution.max_workers = 8
    if peering_name:
        settings.peering.name = peering_name
        settings.peering.lifetime = PEERING_LIFETIME_S
        settings.peering.priority = priority
        settings.peering.mandatory = True
    else:
        settings.peering.standalone = True

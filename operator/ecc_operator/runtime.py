"""What the three controllers share in one operator process, set once at start-up (`__main__`):
the Kubernetes client, how workloads are launched, one lock per object, and the fleet
controller's node reports, which the policy controller reads without listing them again.

Controllers import this module, never each other's handlers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ecc_workloads.contracts import AgentReport

from ecc_operator.children import Kube
from ecc_operator.common import KeyedLocks
from ecc_operator.workloads import WorkloadSettings


def _no_reports(namespace: str, fleet: str) -> list[AgentReport]:
    return []


@dataclass
class Shared:
    kube: Kube | None = None
    workloads: WorkloadSettings = field(default_factory=WorkloadSettings)
    """how Jobs and servers are launched (the teacher's and the policy's Jobs alike)"""
    lock: KeyedLocks = field(default_factory=KeyedLocks)
    """one lock per object, by uid: an object's handlers run one at a time, and a merge-back
    promotion holds its teacher's while it writes the teacher's status"""
    fleet_reports: Callable[[str, str], list[AgentReport]] = _no_reports
    """(namespace, fleet) -> the fleet's latest node reports as the fleet controller last read
    them (it sets this; empty until the fleet's first reconcile)"""


SHARED = Shared()

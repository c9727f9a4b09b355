"""Typed data of the process node agent (a development stand-in for a kubelet).

`ProcessNodesFile` is the nodes file the cluster orchestration writes
(`STATE_DIR/process-nodes.json`) and the agent reads; `AgentSettings` is what the
agent's command line resolves to. Both are boundaries, so both are validated
with clear errors.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|Pi|Ei|M|G|T|P|E)?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")

POD_CIDR = "127.100.0.0/16"
"""Addresses of pods on process nodes (one per pod, all on loopback)."""
SERVICE_CIDR = "127.200.0.0/16"
"""Addresses the agent's Service forwarders listen on (one per Service)."""
NODE_ADDRESS = "127.0.0.1"
DEFAULT_PASS_ENV = ("HOME", "LANG", "LC_ALL", "TZ", "PYTHONPATH", "ECC_CACHE_DIR")


class TaintSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    value: str = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class ProcessNodeSpec(BaseModel):
    """One node the agent registers and serves."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Node name (a DNS subdomain), e.g. ecc-cloud-0")
    labels: dict[str, str] = Field(default_factory=dict)
    taints: list[TaintSpec] = Field(default_factory=list)
    capacity: dict[str, str] = Field(
        default_factory=lambda: {"cpu": "2", "memory": "4Gi", "pods": "110"},
        description="Node capacity (also reported as allocatable), Kubernetes quantities",
    )

    @field_validator("name")
    @classmethod
    def _name_is_dns_subdomain(cls, value: str) -> str:
        if not _DNS_SUBDOMAIN.match(value):
            raise ValueError(
                f"node name {value!r} is not a DNS subdomain (lower-case letters, digits, '-', '.')"
            )
        return value

    @field_validator("capacity")
    @classmethod
    def _capacity_is_quantities(cls, value: dict[str, str]) -> dict[str, str]:
        for resource, quantity in value.items():
            if not _QUANTITY.match(str(quantity)):
                raise ValueError(
                    f"capacity[{resource!r}] = {quantity!r} is not a Kubernetes quantity "
                    "(e.g. '2', '500m', '4Gi')"
                )
        return value


class ProcessNodesFile(BaseModel):
    """Contents of process-nodes.json: `{"nodes": [ProcessNodeSpec, ...]}`."""

    model_config = ConfigDict(extra="forbid")

    nodes: list[ProcessNodeSpec]

    @field_validator("nodes")
    @classmethod
    def _unique_names(cls, nodes: list[ProcessNodeSpec]) -> list[ProcessNodeSpec]:
        names = [n.name for n in nodes]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"node names must be unique; repeated: {', '.join(duplicates)}")
        return nodes

    @classmethod
    def load(cls, path: str | Path) -> "ProcessNodesFile":
        path = Path(path)
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            raise ValueError(f"nodes file {path} does not exist") from None
        except json.JSONDecodeError as exc:
            raise ValueError(f"nodes file {path} is not valid JSON: {exc}") from None
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise ValueError(f"nodes file {path} is invalid:\n{exc}") from None

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.model_dump_json(indent=2))


def image_paths() -> tuple[str, ...]:
    """What stands in for the pods' image on a process node: the checkout (the project is
    installed editable from it) and the agent's virtualenv, as named and as resolved (`.venv`
    links into the cache)."""
    checkout = Path(__file__).resolve().parents[1]
    return str(checkout), os.path.abspath(sys.prefix), os.path.realpath(sys.prefix)


class AgentSettings(BaseModel):
    """What the agent's command line resolves to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kubeconfig: Path
    state_dir: Path
    nodes_file: Path
    apiserver_host: str = NODE_ADDRESS
    apiserver_port: int = Field(ge=1, le=65535)
    ca_file: Path
    path_prepend: tuple[str, ...] = ()
    keep_paths: tuple[str, ...] = Field(default_factory=image_paths)
    """Host paths the pods' commands need, kept visible under any volume mounted over them."""
    pass_env: tuple[str, ...] = DEFAULT_PASS_ENV
    """Variables of the agent's own environment every pod gets (what an image would define);
    never the agent's credentials (KUBECONFIG is not passed)."""
    heartbeat_seconds: float = Field(default=10.0, gt=0)

    @field_validator("pass_env")
    @classmethod
    def _no_credentials(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        if "KUBECONFIG" in names:
            raise ValueError("pass_env must not contain KUBECONFIG: pods use their own service-account token")
        return names
    lease_duration_seconds: int = Field(default=40, ge=1)
    restart_backoff_base_seconds: float = Field(default=10.0, ge=0)
    restart_backoff_max_seconds: float = Field(default=300.0, ge=0)
    shutdown_grace_seconds: float = Field(default=15.0, ge=0)

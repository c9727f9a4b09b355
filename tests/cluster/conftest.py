"""Fixtures the operator's control-plane test modules share (each module gets its own
instance: they are module-scoped). A module names its namespace prefix NAMESPACE_PREFIX."""

from __future__ import annotations

import pytest

from operatorkit import apply_crds, delete_namespace, make_namespace


@pytest.fixture(scope="module")
def ns(request, cluster, kube):
    """A namespace of the module's own (prefix NAMESPACE_PREFIX) with a copy of the store Secret."""
    name = make_namespace(kube, getattr(request.module, "NAMESPACE_PREFIX", "t"))
    yield name
    delete_namespace(kube, name)


@pytest.fixture(scope="module")
def crds_installed(cluster):
    apply_crds(cluster)

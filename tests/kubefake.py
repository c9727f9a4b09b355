"""The Secret calls of the operator's Kube (children.Kube) over a dict, for unit tests of what the
operator keeps in Secrets (the real API server is used in tests/cluster)."""

from __future__ import annotations


class FakeSecrets:
    """Kube.get_secret_data / create_if_absent / apply (Secrets only) over a dict."""

    def __init__(self, existing: dict[tuple[str, str], dict[str, str]] | None = None):
        self.secrets = dict(existing or {})
        self.created: list[dict] = []
        self.applied: list[dict] = []

    @staticmethod
    def _key(manifest: dict) -> tuple[str, str]:
        return manifest["metadata"]["namespace"], manifest["metadata"]["name"]

    def get_secret_data(self, namespace, name):
        data = self.secrets.get((namespace, name))
        return None if data is None else dict(data)

    def create_if_absent(self, manifest):
        if self._key(manifest) in self.secrets:
            return False
        self.created.append(manifest)
        self.secrets[self._key(manifest)] = dict(manifest["stringData"])
        return True

    def apply(self, manifest):
        assert manifest["kind"] == "Secret", manifest["kind"]
        self.applied.append(manifest)
        self.secrets[self._key(manifest)] = dict(manifest["stringData"])

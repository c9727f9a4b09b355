"""The ECC Fleet operator (kopf).

- `api/`: the custom resources as pydantic models (one module per kind), from which the CRDs are
  generated;
- `controllers/<kind>/`: `decisions` (pure: spec + observed state -> desired children and
  status) and `handlers` (kopf handlers that observe, call the decisions and act through
  `children.Kube`); what they share is in `common`, `conditions`, `workloads` (labels, Job and
  container builders) and `runtime` (the process's Kubernetes client, workload settings, locks);
- `credentials/`: what the operator issues (store users, Job and node credentials, TLS, release keys);
- `gen/`: development-time generators (CRDs, chart), never imported by the running operator.

Run it as `ecc-operator` or `python -m ecc_operator`.
"""

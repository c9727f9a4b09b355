"""One package per kind: `decisions` (pure: observed state in, desired children and status out)
and `handlers` (kopf handlers that read, call the decisions and apply)."""

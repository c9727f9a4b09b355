"""Credentials the operator issues: scoped store users, Job and node credentials, TLS for nodes
and serving, release signing keys."""

"""The ECC Fleet operator (kopf).

Decisions live in pure functions (spec + observed state -> desired children and
status); kopf handlers only act on them. The resources and controllers arrive
with the operator issues; this package already runs as `ecc-operator` /
`python -m ecc_operator` with kopf's peering and health endpoint.
"""

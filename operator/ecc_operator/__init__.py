"""The ECC Fleet operator (kopf).

Decisions live in pure functions (spec + observed state -> desired children and
status: `teacher_decisions`, `fleet_decisions`, `policy_decisions`, `conditions`); kopf
handlers only act on them (`teacher_handlers`, `fleet_handlers`, `policy_handlers`, through
`children.Kube`). Run it as
`ecc-operator` or `python -m ecc_operator`.
"""

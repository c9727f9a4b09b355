"""The ECC Fleet operator (kopf).

Decisions live in pure functions (spec + observed state -> desired children and
status: `teacher_decisions`, `conditions`, `refs`); kopf handlers only act on them
(`teacher_handlers`, `refs_handlers`, through `children.Kube`). Run it as
`ecc-operator` or `python -m ecc_operator`.
"""

"""Everything that runs in Jobs, in the teacher's server and on edge nodes.

Importing this package must stay cheap and torch-free: the operator imports
`ecc_workloads.contracts`, and the operator image has no torch.
"""

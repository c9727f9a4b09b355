"""Inference: the shared predictor over a verified sub-model, the teacher's KServe server, and
the storage initializer that fetches its bundle."""

"""The custom resources: pydantic models of the three kinds, from which the CRDs are generated."""

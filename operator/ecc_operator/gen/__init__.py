"""Generators run at development time (`make generate`): CRDs, chart values and schema,
dashboards, alert rules. The operator never imports them."""

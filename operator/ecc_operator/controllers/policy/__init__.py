"""AdaptationPolicy: drift triggers, schedules and merge-back Jobs."""

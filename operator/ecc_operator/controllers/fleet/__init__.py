"""EdgeFleet: desired state per tier, rollouts, node reports and their index."""

"""Simulation against the real store: simulated agents for fake nodes and a traffic generator
for real agents."""

"""Operational state (alert states, outbox, silences): filled in by the scheduler issue."""

"""Notifications: what eltkit does when a job fails, a circuit opens or an SLA slips."""

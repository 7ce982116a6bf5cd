"""Executing a selection of the unified DAG: plan, executor, policies, progress."""

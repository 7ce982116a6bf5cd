"""Screens of the TUI: runs, one run, one node, lineage, freshness, help, confirmations, errors."""

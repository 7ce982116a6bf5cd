"""Screens of the TUI: runs, one run, one node, help, confirmations, errors."""

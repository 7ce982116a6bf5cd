"""Data SLAs: promises about when a set of nodes is built and how old it may get."""

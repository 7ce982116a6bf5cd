"""pytest plugin for eltkit pipelines (registered through the pytest11 entry point)."""

"""Time-based features: source freshness (and, to come, jobs and SLAs)."""

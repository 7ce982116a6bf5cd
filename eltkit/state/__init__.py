"""The run history: its own SQLite file, readable while a run writes it."""

from eltkit.state.store import HistoryStore, NodeRecord, RunRecord

__all__ = ["HistoryStore", "NodeRecord", "RunRecord"]

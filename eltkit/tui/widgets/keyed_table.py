"""A DataTable updated in place by row key, so refreshes keep the cursor and scroll still.

The way dolphie does it: when the rows are the same keys in the same order,
only the cells whose value changed are touched; otherwise the table is rebuilt
once and the cursor put back on the row it was on.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

Cell = str | Text
Row = tuple[str, tuple[Cell, ...]]


class KeyedTable(DataTable[Cell]):
    """Rows keyed by a string id; :meth:`sync` shows a new list of rows cheaply."""

    def __init__(self, columns: Sequence[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self._column_spec = list(columns)
        self._keys: list[str] = []
        self._cells: dict[str, tuple[Cell, ...]] = {}

    def on_mount(self) -> None:
        for label, key in self._column_spec:
            self.add_column(label, key=key)

    @property
    def keys(self) -> list[str]:
        return list(self._keys)

    @property
    def cursor_key(self) -> str | None:
        if not self._keys or not 0 <= self.cursor_row < len(self._keys):
            return None
        return self._keys[self.cursor_row]

    def move_to(self, key: str) -> bool:
        try:
            index = self._keys.index(key)
        except ValueError:
            return False
        self.move_cursor(row=index, animate=False)
        return True

    def sync(self, rows: list[Row]) -> int:
        """Show ``rows``; returns how many cells changed (everything on a rebuild)."""
        keys = [key for key, _ in rows]
        if keys == self._keys:
            changed = 0
            for key, cells in rows:
                old = self._cells[key]
                if old == cells:
                    continue
                for index, (label_key, value) in enumerate(
                        zip((k for _, k in self._column_spec), cells, strict=True)):
                    if old[index] != value:
                        self.update_cell(key, label_key, value, update_width=True)
                        changed += 1
                self._cells[key] = cells
            return changed
        current = self.cursor_key
        with self.app.batch_update():
            self.clear()
            self._keys = keys
            self._cells = dict(rows)
            for key, cells in rows:
                self.add_row(*cells, key=key)
            if current is not None and current in self._cells:
                self.move_to(current)
        return len(rows) * len(self._column_spec)

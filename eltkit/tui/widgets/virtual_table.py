"""A table that renders only the lines on screen, for runs of thousands of nodes.

Textual's DataTable measures every cell of every row it is given, which takes
seconds for a 5,000-node run. This widget keeps rows as plain tuples, works out
column widths from their text lengths, and draws a line only when it is on
screen (the Line API, as toolong does for huge logs), with a small cache of
drawn lines. Rows are keyed (a node's unique id) and updated in place, so a
refresh keeps the cursor and the scroll position still.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

Cell = str | Text
Row = tuple[str, tuple[Cell, ...]]
GAP = 2


def _width(cell: Cell) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell)


class VirtualTable(ScrollView, can_focus=True):
    """Keyed rows, one cursor row, a fixed header line; drawn lazily."""

    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
    ]
    COMPONENT_CLASSES = {"virtual-table--header", "virtual-table--cursor"}
    DEFAULT_CSS = """
    VirtualTable {
        height: 1fr;
        background: $surface;
    }
    VirtualTable > .virtual-table--header {
        text-style: bold;
        background: $panel;
    }
    VirtualTable > .virtual-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: bold;
    }
    VirtualTable:blur > .virtual-table--cursor {
        background: $block-cursor-blurred-background;
        text-style: none;
    }
    """

    class RowHighlighted(Message):
        def __init__(self, table: VirtualTable, key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> VirtualTable:
            return self.table

    class RowSelected(RowHighlighted):
        pass

    def __init__(self, columns: Sequence[tuple[str, str]], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns = list(columns)
        self._keys: list[str] = []
        self._index: dict[str, int] = {}
        self._cells: dict[str, tuple[Cell, ...]] = {}
        self._widths = [cell_len(label) for label, _ in self.columns]
        self._lines: dict[str, list[Segment]] = {}
        self.cursor_row = 0

    # -- the same surface as a keyed DataTable -------------------------------------------

    @property
    def keys(self) -> list[str]:
        return list(self._keys)

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def cursor_key(self) -> str | None:
        if 0 <= self.cursor_row < len(self._keys):
            return self._keys[self.cursor_row]
        return None

    def move_to(self, key: str) -> bool:
        index = self._index.get(key)
        if index is None:
            return False
        self.move_cursor(row=index)
        return True

    def move_cursor(self, *, row: int, animate: bool = False) -> None:
        if not self._keys:
            return
        row = max(0, min(row, len(self._keys) - 1))
        previous = self.cursor_row
        self.cursor_row = row
        self._scroll_to_cursor()
        if previous != row:
            self.refresh()
            self.post_message(self.RowHighlighted(self, self.cursor_key))

    def sync(self, rows: list[Row]) -> int:
        """Show exactly ``rows``; keeps the cursor on its key when it is still there."""
        keys = [key for key, _ in rows]
        if keys == self._keys:
            return self.update_rows(rows)
        current = self.cursor_key
        self._keys = keys
        self._index = {key: index for index, key in enumerate(keys)}
        self._cells = dict(rows)
        self._lines.clear()
        widths = [cell_len(label) for label, _ in self.columns]
        for _, cells in rows:
            for column, cell in enumerate(cells):
                width = _width(cell)
                if width > widths[column]:
                    widths[column] = width
        self._widths = widths
        self._resize()
        index = self._index.get(current, 0) if current is not None else 0
        self.cursor_row = min(index, max(0, len(keys) - 1))
        self._scroll_to_cursor()
        self.call_after_refresh(self._scroll_to_cursor)
        self.refresh()
        self.post_message(self.RowHighlighted(self, self.cursor_key))
        return len(rows)

    def update_rows(self, rows: list[Row]) -> int:
        """Update rows already shown (others are ignored); returns how many changed."""
        changed = 0
        widened = False
        for key, cells in rows:
            old = self._cells.get(key)
            if old is None or old == cells:
                continue
            self._cells[key] = cells
            self._lines.pop(key, None)
            changed += 1
            for column, cell in enumerate(cells):
                width = _width(cell)
                if width > self._widths[column]:
                    self._widths[column] = width
                    widened = True
        if widened:
            self._lines.clear()
            self._resize()
        if changed:
            self.refresh()
        return changed

    # -- drawing --------------------------------------------------------------------------

    def _resize(self) -> None:
        total = sum(self._widths) + GAP * len(self._widths)
        self.virtual_size = Size(total, len(self._keys) + 1)

    def _scroll_to_cursor(self) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)
        top = round(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, immediate=True)

    def _segments(self, cells: Sequence[Cell], base: Style) -> list[Segment]:
        segments: list[Segment] = [Segment(" ", base)]
        last = len(cells) - 1
        for column, cell in enumerate(cells):
            text = cell.plain if isinstance(cell, Text) else cell
            pad = "" if column == last else " " * (self._widths[column] - _width(cell) + GAP)
            if isinstance(cell, Text) and cell.style:
                style = base + (Style.parse(cell.style) if isinstance(cell.style, str)
                                else cell.style)
            else:
                style = base
            segments.append(Segment(text, style))
            if pad:
                segments.append(Segment(pad, base))
        return segments

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            header = self.get_component_rich_style("virtual-table--header")
            segments = self._segments([label for label, _ in self.columns], base + header)
            return Strip(segments).crop_extend(scroll_x, scroll_x + width, base + header)
        index = scroll_y + y - 1
        if index >= len(self._keys):
            return Strip.blank(width, base)
        key = self._keys[index]
        if index == self.cursor_row:
            cursor = base + self.get_component_rich_style("virtual-table--cursor")
            segments = self._segments(self._plain_cells(key), cursor)
            return Strip(segments).crop_extend(scroll_x, scroll_x + width, cursor)
        line = self._lines.get(key)
        if line is None:
            if len(self._lines) > 2000:
                self._lines.clear()
            line = self._lines[key] = self._segments(self._cells[key], base)
        return Strip(line).crop_extend(scroll_x, scroll_x + width, base)

    def _plain_cells(self, key: str) -> tuple[Cell, ...]:
        """The cursor row in the cursor's colours, keeping bold/dim of its cells."""
        return tuple(cell.plain if isinstance(cell, Text) else cell
                     for cell in self._cells[key])

    def notify_style_update(self) -> None:
        self._lines.clear()
        super().notify_style_update()

    # -- keys and mouse ---------------------------------------------------------------------

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self.cursor_row + 1)

    def action_page_up(self) -> None:
        self.move_cursor(row=self.cursor_row - max(1, self.scrollable_content_region.height - 2))

    def action_page_down(self) -> None:
        self.move_cursor(row=self.cursor_row + max(1, self.scrollable_content_region.height - 2))

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=len(self._keys) - 1)

    def action_select(self) -> None:
        if self.cursor_key is not None:
            self.post_message(self.RowSelected(self, self.cursor_key))

    async def _on_click(self, event: events.Click) -> None:
        index = round(self.scroll_y) + event.y - 1
        if event.y == 0 or not 0 <= index < len(self._keys):
            return
        if index == self.cursor_row and event.chain >= 2:
            self.action_select()
        else:
            self.move_cursor(row=index)

"""`eltkit tui`: a Textual app that watches the run history while other processes write it.

Import :mod:`eltkit.tui.app` to build the app; this package stays light so
that ``eltkit --help`` does not pay for Textual.
"""

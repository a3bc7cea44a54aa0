"""Text a trainee controls (names, file names, cell ids, error messages from their code), made safe to show.

Printed with rich, ``[bold]`` or ``[/]`` in such text is read as markup: it restyles the instructor's screen or stops
the command with a MarkupError. Control characters (ESC sequences, carriage returns, Unicode direction overrides) can
clear the terminal, forge lines or hide text. Every command that prints trainee text passes it through ``printable``;
text written to files (CSV, JSON) goes through ``without_controls``, which leaves brackets alone.
"""

from __future__ import annotations

import re

from rich.markup import escape

# C0 controls but tab and newline, DEL, C1 controls, and the Unicode marks that reorder or hide what follows.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_LINE_BREAKS = re.compile("[\n\t]")


def without_controls(text: object, one_line: bool = False) -> str:
    """``text`` with every control character removed (and, for ``one_line``, newlines and tabs made spaces)."""
    cleaned = _CONTROLS.sub("", str(text))
    return _LINE_BREAKS.sub(" ", cleaned) if one_line else cleaned


def printable(text: object, one_line: bool = False) -> str:
    """``text`` as rich prints it literally: no control characters, markup escaped."""
    return escape(without_controls(text, one_line))

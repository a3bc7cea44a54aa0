"""Interactive pieces that keep working in the static book, where no Python runs."""

from __future__ import annotations


def linked_views(picker, views: list, selected_index: int = 0):
    """Show one of ``views`` at a time, chosen by ``picker`` (any selection widget with an ``index``).

    The link is made in the browser (``jslink``), so choosing still works in the built book without a kernel.
    """
    import ipywidgets as widgets

    stack = widgets.Stack(views, selected_index=selected_index)
    widgets.jslink((picker, "index"), (stack, "selected_index"))
    return stack


def show_quiz(questions: list[dict]) -> None:
    """Display multiple-choice questions (jupyterquiz format) as a clickable quiz, in order, that needs no kernel."""
    from jupyterquiz import display_quiz

    display_quiz(questions, shuffle_answers=False)

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


# jupyterquiz's green is 4.0:1 against its white text and 4.1:1 as feedback text on a white page: below WCAG AA
# (4.5:1), and the output box of the dark theme (#ced6dd) lowers its red too. These reach 5.5:1 or more on white, on
# that box, and under white text (tests/test_site.py checks answered quizzes in both themes).
QUIZ_COLOURS = {"--jq-correct-color": "#145c22", "--jq-incorrect-color": "#a00000"}


# jupyterquiz typesets its questions with a global MathJax 3 through MathJax.typeset. JupyterLab and JupyterLite keep a
# global MathJax 3 without that method; jupyterquiz then overwrites the global and fetches MathJax from a CDN (blocked
# on hospital networks), and the next quiz on the page fails with a script error. The course's self-checks hold no
# mathematics, so a typeset that does nothing is enough; the book's own MathJax has the method and is left alone.
MATHJAX_TYPESET_SHIM = """
if (typeof MathJax !== "undefined" && String(MathJax.version || "").startsWith("3")
    && typeof MathJax.typeset !== "function") {
  MathJax.typeset = function () {};
}
"""


def show_quiz(questions: list[dict]) -> None:
    """Display multiple-choice questions (jupyterquiz format) as a clickable quiz, in order, that needs no kernel."""
    from IPython.display import Javascript, display
    from jupyterquiz import display_quiz

    display(Javascript(MATHJAX_TYPESET_SHIM))
    display_quiz(questions, shuffle_answers=False, colors=QUIZ_COLOURS)

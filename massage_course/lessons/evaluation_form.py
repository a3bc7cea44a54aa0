"""The course evaluation form in JupyterLab: ratings and free text, sent as an anonymous file to the course's drop box.

No name is asked or written: the file holds the answers only, under a random name. In the drop box trainees may add
files but not list or read them; the instructors' export reads every response, keeps the answers and deletes the
files (grading/evaluations.py). The form needs a live kernel and the course's exchange, so it is not in the book.
"""

from __future__ import annotations

import html
import json
import os
import secrets
from pathlib import Path

from ..topics.course_evaluation import DROP_BOX, check_response, evaluation


def drop_box() -> Path:
    """The drop box in nbgrader's exchange: the one MASSAGE_COURSE_EXCHANGE names (the course hub sets it), else the
    exchange beside the course in this checkout (one machine)."""
    named = os.environ.get("MASSAGE_COURSE_EXCHANGE", "").strip()
    exchange = Path(named) if named else Path(__file__).resolve().parents[2] / "assignments" / "exchange"
    return exchange / DROP_BOX


def send(response: dict, box: Path | None = None) -> Path:
    """Write one response under a random name; refuse an empty or malformed one (CourseDataError) and a missing box
    (FileNotFoundError: the instructor sets it up; a trainee never creates it, or they would own everyone's answers)."""
    clean = check_response(response)
    box = drop_box() if box is None else box
    if not box.is_dir():
        raise FileNotFoundError("the evaluation box is not set up yet: please tell your instructor")
    path = box / f"{secrets.token_hex(16)}.json"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)  # instructors' group may read it
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(clean, handle)
    return path


def evaluation_form():
    """The form as ipywidgets: a row of choices per statement, a box per question, and a Send button."""
    import ipywidgets as widgets

    form = evaluation()
    options = [("no answer", None)] + [(label, n) for n, label in enumerate(form.scale, 1)]
    ratings = {key: widgets.RadioButtons(options=options, value=None, description="", layout={"width": "auto"})
               for key, _ in form.statements}
    texts = {key: widgets.Textarea(placeholder="Your answer (please do not write your name)",
                                   layout={"width": "100%", "height": "5em"}) for key, _ in form.questions}
    status = widgets.HTML()
    button = widgets.Button(description="Send my evaluation", button_style="primary", icon="paper-plane")

    def on_send(_):
        response = {**{k: w.value for k, w in ratings.items()}, **{k: w.value for k, w in texts.items()}}
        try:
            send(response)
        except (ValueError, FileNotFoundError, OSError) as error:
            status.value = f"<p><strong>Not sent:</strong> {html.escape(str(error))}.</p>"
            return
        button.disabled = True
        status.value = "<p><strong>Thank you.</strong> Your evaluation was sent, without your name.</p>"

    button.on_click(on_send)
    parts = []
    for n, (key, text) in enumerate(form.statements, 1):
        parts += [widgets.HTML(f"<p><strong>{n}. {text}</strong></p>"), ratings[key]]
    for key, text in form.questions:
        parts += [widgets.HTML(f"<p><strong>{text}</strong></p>"), texts[key]]
    return widgets.VBox([*parts, button, status])


def show_evaluation_form() -> None:
    from IPython.display import display

    display(evaluation_form())

"""The instructor's `feedback` command: a page per trainee with what they got right, why, and where to read more.

nbgrader's own feedback is the graded notebook, hidden tests and tracebacks included (nbgrader #917, #1363). This page
is built from the gradebook and the item bank instead, so it can never hold test code or the key in code form.
Whether it names the correct answers (and their rationales) is the quiz's ``reveal_answers`` setting.
"""

from __future__ import annotations

import re
import shutil
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, select_autoescape

from .quiz_bank import PROJECT_ROOT, Quiz, objective_text, where_to_read
from .results import TraineeResult, load_results

# The course's pages say so in their head, before anything of a trainee's: release refuses any other page (exchange.py).
PAGE_MARK = '<meta name="generator" content="massage_course feedback">'
# Wherever the page is opened (JupyterLab, a browser, a file), it runs no script and loads nothing from elsewhere.
PAGE_POLICY = ('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
               'img-src data:; base-uri \'none\'; form-action \'none\'">')

_PAGE = Environment(autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True).from_string("""\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
""" + PAGE_MARK + """
""" + PAGE_POLICY + """
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Feedback: {{ quiz.title }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5;
       color: #1a1a1a; }
.right { color: #0b6b2c; } .wrong { color: #a0161b; } .pending { color: #6b4e00; }
section { border-top: 1px solid #ccc; padding-top: .5rem; }
table { border-collapse: collapse; } th, td { border: 1px solid #999; padding: .25rem .5rem; text-align: left; }
</style>
</head>
<body>
<main>
<h1>Feedback: {{ quiz.title }}</h1>
<p>Trainee: <strong>{{ trainee.student }}</strong></p>
{% if trainee.score is none %}
<p>Your quiz could not be graded automatically. Your instructor will contact you.</p>
{% else %}
<p>Your score: <strong>{{ "%g"|format(trainee.score) }} of {{ trainee.max_score }} points
({{ "%.0f"|format(trainee.percent) }}%)</strong>. The pass mark is {{ quiz.pass_mark }}%.
{% if passed is true %}<strong class="right">You passed.</strong>
{% elif passed is false %}<strong class="wrong">You did not reach the pass mark this time.</strong>
{% else %}<strong class="pending">Part of your quiz is still being graded by your instructor.</strong>{% endif %}
</p>
{% endif %}
{% if not quiz.reveal_answers %}
<p>For this quiz your instructor shows which questions you got right and where to read more, but not the answers.</p>
{% endif %}
{% for row in rows %}
<section>
<h2>Question {{ row.number }}{% if row.item.kind == "written" %} (written answer){% endif %}:
{% if row.result.score is none %}<span class="pending">not graded yet</span>
{% elif row.result.score >= row.item.points %}<span class="right">right</span>
{% elif row.result.score > 0 %}<span class="pending">partly right</span>
{% else %}<span class="wrong">not right</span>
{% endif %}
{% if row.result.score is not none %}({{ "%g"|format(row.result.score) }} of {{ row.item.points }}
point{{ "s" if row.item.points > 1 }}){% endif %}</h2>
<p>{{ row.item.stem }}</p>
{% if row.item.kind == "choice" %}
<p>Your answer: {% if row.result.choice %}<strong>{{ row.result.choice }}</strong>. {{ row.item.choices[row.result.choice] }}
{% elif row.result.choice == "" %}no answer.{% elif row.result.typed is not none %}you wrote “{{ row.result.typed }}”, which is not one of the choices ({{ row.item.letters | join(", ") }}), so it scored 0.{% else %}your answer cell could not be read as one letter.{% endif %}</p>
{% if quiz.reveal_answers %}
<p>Best answer: <strong>{{ row.item.answer }}</strong>. {{ row.item.choices[row.item.answer] }}</p>
<p>Why: {{ row.item.rationale }}</p>
{% endif %}
{% else %}
{% if row.result.comment %}<p>Your instructor's comment: {{ row.result.comment }}</p>{% endif %}
{% if quiz.reveal_answers %}
<p>What a full answer covers:</p>
<ul>{% for line in row.item.rubric %}<li>{{ line.criterion }} ({{ line.points }} point{{ "s" if line.points > 1 }})</li>{% endfor %}</ul>
{% endif %}
{% endif %}
<p>What this question checks: {{ row.objectives|join("; ") }}.</p>
<p>Read more: {{ row.where }}. Sources: {{ row.sources|join("; ") }}</p>
</section>
{% endfor %}
</main>
</body>
</html>
""")


@lru_cache(maxsize=1)
def _bibliography():
    from pybtex.database import parse_file

    return parse_file(str(PROJECT_ROOT / "references.bib")).entries


def _plain(latex: str) -> str:
    """BibTeX's LaTeX as a reader sees it: no braces around {Mayo Clinic}, a section sign for \\S, curly quotes, and
    the words of a command pybtex does not know (\\emph{...}) without the command."""
    from pybtex.richtext import Text

    return " ".join(re.sub(r"\\[A-Za-z]+\s*", "", Text.from_latex(latex).render_as("text")).split())


def short_reference(key: str) -> str:
    """'Author et al. (year), Title' for a references.bib key, as a trainee would look it up in the bibliography."""
    entry = _bibliography()[key]
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [" ".join(p.last_names) or str(p) for p in people]
    who = names[0] + (" et al." if len(names) > 2 else f" and {names[1]}" if len(names) == 2 else "") if names else \
        entry.fields.get("organization") or entry.fields.get("publisher") or entry.fields.get("howpublished") or key
    return f"{_plain(who)} ({entry.fields.get('year', 'n.d.')}), {_plain(entry.fields.get('title', ''))}"


def feedback_page(quiz: Quiz, trainee: TraineeResult) -> str:
    rows = [{"number": quiz.number(item), "item": item, "result": trainee.items[item.id],
             "objectives": [objective_text(tag).rstrip(";.") for tag in item.objectives], "where": where_to_read(item),
             "sources": [short_reference(key) for key in item.sources]} for item in quiz.items]
    return _PAGE.render(quiz=quiz, trainee=trainee, rows=rows if trainee.items else [], passed=trainee.passed(quiz))


def is_course_page(path: str | Path) -> bool:
    """Whether a feedback file is a page this module wrote (its mark in the head), not nbgrader's generated notebook."""
    with open(path, encoding="utf-8", errors="replace") as page:
        head = page.read(4096).split("<body", 1)[0]
    return PAGE_MARK in head


def write_feedback(course: str | Path, quiz_id: str, progress=None) -> tuple[list[Path], list[str]]:
    """Write feedback/<trainee>/<quiz>/<quiz>.html for every graded trainee, where nbgrader's release_feedback finds
    it. Returns (pages written, trainees skipped with the reason)."""
    course = Path(course).resolve()
    quiz, results = load_results(course, quiz_id)
    written, skipped = [], []
    for trainee in results:
        if trainee.status == "failed":
            skipped.append(f"{trainee.student}: grading failed ({'; '.join(trainee.problems)})")
        elif trainee.status == "needs_manual_grading":
            skipped.append(f"{trainee.student}: waiting for hand grading in the formgrader")
        else:
            target = course / "feedback" / trainee.student / quiz_id / quiz.notebook.replace(".ipynb", ".html")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(feedback_page(quiz, trainee), encoding="utf-8")
            # nbgrader's release_feedback files the page under the submission's time and secret (written when the
            # trainee submitted through the exchange), read from here
            for name in ("timestamp.txt", "submission_secret.txt"):
                kept = course / "autograded" / trainee.student / quiz_id / name
                if kept.exists():
                    shutil.copy(kept, target.parent)
            written.append(target)
        if progress:
            progress()
    return written, skipped

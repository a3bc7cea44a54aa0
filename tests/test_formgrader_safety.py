"""The formgrader shows an instructor what a trainee handed in without running any of it (issue 16, item 9): a real
Chromium against a real JupyterLab with nbgrader's formgrader, over a throwaway course whose one submission carries a
``<script>``, an ``onerror=`` attribute, a ``javascript:`` link and an HTML output with a handler. Any of them running
would set ``window.pwned`` and retitle the page; nbgrader's own scripts on the page must still run."""

from __future__ import annotations

import urllib.request

import nbformat
import pytest

from massage_course.grading.nbgrader_api import course_api
from massage_course.hub import local_lab

from .conftest import QUIZ, copy_course, fill_quiz, outside
from .test_lab import launch, stop, wait_until_up

pytestmark = pytest.mark.browser

TRAINEE = "mallory"
# void 0: a javascript: link whose code returns a string would replace the page with that string (and lose the proof)
RUN = "window.pwned = '{how}'; document.title = 'pwned'; void 0"
WRITTEN = (
    f"I would ask the nurse first. <script>{RUN.format(how='script')}</script>\n\n"
    f'<img src="no-such-image.png" onerror="{RUN.format(how="onerror")}">\n\n'
    f'<a id="trap" href="javascript:{RUN.format(how="link")}">Read my sources</a>\n\n'
    f"[and these](javascript:{RUN.format(how='markdown-link')})\n"
)
HTML_OUTPUT = ("from IPython.display import HTML, display\n"
               "display(HTML('<img src=\"none.png\" onerror=\"window.pwned = 2; document.title = 3\">'))")


@pytest.fixture(scope="module")
def formgrader(tmp_path_factory):
    """A course with the trainee's submission autograded into nbgrader's gradebook, and the instructor's JupyterLab
    (as ./course start runs it) over that course."""
    tmp = tmp_path_factory.mktemp("formgrader")
    course = copy_course(tmp / "course")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MASSAGE_COURSE_GRADEBOOK_URL", raising=False)  # the course's own SQLite gradebook, in tmp
        mp.setenv("MASSAGE_COURSE_EXCHANGE", str(tmp / "exchange"))
        api = course_api(course)
        assert api.generate_assignment(QUIZ)["success"]
        released = nbformat.read(course / "release" / QUIZ / f"{QUIZ}.ipynb", as_version=4)
        submission = fill_quiz(released, written=WRITTEN)
        submission.cells.append(nbformat.v4.new_code_cell(HTML_OUTPUT))
        target = course / "submitted" / TRAINEE / QUIZ / f"{QUIZ}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(submission, target)
        (target.parent / "notes.html").write_text(f"<script>{RUN.format(how='file')}</script>")  # handed in beside it
        graded = api.autograde(QUIZ, TRAINEE)
        assert graded["success"], graded["log"]
        with api.gradebook as gradebook:
            submission_id = gradebook.find_submission_notebook(QUIZ, QUIZ, TRAINEE).id
        (tmp / "home").mkdir()
        mp.setattr(local_lab, "COURSE_ROOT", course)  # the instructor's JupyterLab starts in the course, as serve does
        lab = launch(tmp, tmp / "home", {}, trainee=False)
    try:
        wait_until_up(lab)
        yield lab, submission_id
    finally:
        stop(lab)


def test_a_submission_shown_in_the_formgrader_runs_none_of_the_trainees_script(formgrader, browser):
    lab, submission_id = formgrader
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(lab.url(f"/formgrader/submissions/{submission_id}/"))
        page.wait_for_load_state("load")
        assert "I would ask the nurse first." in page.inner_text("#notebook-container")
        assert page.evaluate("window.submission_id") == submission_id  # nbgrader's own page script still runs
        trap = page.locator("#notebook-container a", has_text="Read my sources")
        if trap.count():
            trap.first.click()
        page.wait_for_timeout(1500)  # an image error or a late script would have fired by now
        assert page.evaluate("window.pwned") is None
        assert page.title() == QUIZ  # nbgrader's title: the notebook's name
        assert page.locator("#notebook-container img[onerror]").count() == 0
    finally:
        context.close()


def test_the_formgrader_answers_with_a_policy_that_forbids_inline_script(formgrader):
    lab, submission_id = formgrader
    for path in (f"/formgrader/submissions/{submission_id}/", "/formgrader/manage_assignments",
                 "/formgrader/gradebook"):
        with urllib.request.urlopen(lab.url(path), timeout=30) as response:
            policy = response.headers.get("Content-Security-Policy", "")
        directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
        assert "script-src" in directives, (path, policy)
        assert "'unsafe-inline'" not in directives["script-src"], (path, policy)
        assert directives.get("object-src") == ["'none'"], (path, policy)
    # a file handed in beside the notebook is served under the formgrader too, and its script gets no nonce
    with urllib.request.urlopen(lab.url(f"/formgrader/submissions/{submission_id}/notes.html"), timeout=30) as response:
        policy, body = response.headers.get("Content-Security-Policy", ""), response.read().decode()
    assert "script-src" in policy and "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";")[0]
    assert "<script>window.pwned" in body and "nonce" not in body


def test_the_formgrader_page_starts_without_a_script_error_or_a_request_outside(formgrader, browser):
    """nbgrader's page asks a CDN for MathJax 2, which the policy (and a hospital network) blocks; its script then
    stopped at "MathJax is not defined" before the keyboard shortcuts were set up. The page must make no request
    outside the JupyterLab it comes from, throw nothing, and finish starting (shortcuts on, first box focused)."""
    lab, submission_id = formgrader
    context = browser.new_context()
    try:
        page = context.new_page()
        requests, uncaught, console = [], [], []
        page.on("request", lambda request: requests.append(request.url))
        page.on("pageerror", lambda error: uncaught.append(str(error)))
        page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
        page.goto(lab.url(f"/formgrader/submissions/{submission_id}/"))
        page.wait_for_load_state("load")
        # (page.wait_for_function evaluates text as script, which the page's policy refuses: poll instead)
        started = "Boolean(window.formgrader && window.formgrader.keyboard_manager && window.MathJax && MathJax.loaded)"
        for _ in range(60):
            if page.evaluate(started):
                break
            page.wait_for_timeout(250)
        assert page.evaluate(started), "the formgrader's script did not finish starting"
        assert uncaught == [], f"uncaught script errors in the formgrader: {uncaught}"
        assert [text for text in console if "mathjax" in text.lower()] == [], console
        assert outside(requests, lab.url("/")) == [], "requests outside the instructor's JupyterLab"
    finally:
        context.close()

"""nbgrader configuration for the course's graded quizzes (the course root is this folder)."""

import os

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)
here = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.root = here
c.CourseDirectory.course_id = "hospital-massage"
# The gradebook is nbgrader's own database: SQLite in this folder by default (never committed), or any SQLAlchemy URL,
# e.g. postgresql+psycopg2://user@host/gradebook, through MASSAGE_COURSE_GRADEBOOK_URL.
c.CourseDirectory.db_url = os.environ.get(
    "MASSAGE_COURSE_GRADEBOOK_URL", "sqlite:///" + os.path.join(here, "gradebook.db")
)
# Where released quizzes wait for trainees and submissions wait for the instructor (must exist, world-writable).
c.Exchange.root = os.environ.get("MASSAGE_COURSE_EXCHANGE", os.path.join(here, "exchange"))

# Trainees answer a multiple-choice item by typing one letter; the release shows them exactly that line.
c.ClearSolutions.code_stub = {"python": 'answer = ""  # type the letter of your choice between the quotes'}
c.ClearSolutions.text_stub = "Write your answer here."

# A trainee who deletes a graded cell gets it back at grading time instead of silently losing the item.
c.OverwriteCells.add_missing_cells = True
# Trainee code runs in a bubblewrap sandbox that sees only its own notebook's folder (massage_course/grading/sandbox.py):
# never the quiz sources, other trainees' work or the gradebook; no network, none of this environment, user nobody.
c.Execute.kernel_name = "massage-course-sandbox"
# The sandbox has no network, so nbgrader reaches its kernel over Unix sockets in a private folder of this process.
from massage_course.grading.sandbox import ipc_prefix  # noqa: E402

c.KernelManager.transport = "ipc"
c.KernelManager.ip = ipc_prefix()
# Caps per graded notebook (massage_course/grading/limits.py, deploy/OPERATIONS.md), read from the environment of the
# grade command: MASSAGE_COURSE_MEMORY_CAP (default 2G), MASSAGE_COURSE_PROCESS_CAP (64, threads included),
# MASSAGE_COURSE_CPU_SECONDS (120 per process), MASSAGE_COURSE_WALL_SECONDS (300 per notebook). A submission stopped
# by a cap scores 0 and is flagged with the reason in the grade report.
# Seconds one cell may run when grading (a cell that never finishes fails that trainee, not the run).
c.Execute.timeout = int(os.environ.get("MASSAGE_COURSE_CELL_TIMEOUT", "30"))
# The kernel is thrown away once the notebook has run, so end it at once: a graceful shutdown of the sandboxed kernel
# often stalls in ipykernel's last output flush until jupyter_client terminates it 2.5 s later (measured: 3 of 4).
c.Execute.shutdown_kernel = "immediate"

# Collect a trainee's submission only if that trainee's account wrote it (nbgrader itself only warns):
# a trainee who submits with --student ANOTHER cannot replace that trainee's work (massage_course/grading/exchange.py).
c.ExchangeFactory.collect = "massage_course.grading.exchange.OwnerCheckedCollect"
# Trainees get the course's own feedback pages (massage_course/grading/feedback.py) and never nbgrader's generated
# notebook, which shows the tests: releasing one (the formgrader's buttons, nbgrader release_feedback) is refused.
c.ExchangeFactory.release_feedback = "massage_course.grading.exchange.CourseFeedbackRelease"

# Submissions downloaded from an LMS (zip_collect): files named <trainee id>_<quiz>.ipynb (nbgrader matches the
# whole extracted path, hence the leading .*/); Canvas-style numeric ids,
# "late_" and a resubmission suffix ("-1") are allowed, e.g. smithj_late_1234_5678_quiz-1-hospital-1.ipynb.
c.FileNameCollectorPlugin.named_regexp = (
    r".*/(?P<student_id>[A-Za-z0-9.-]+)_(?:late_)?(?:[0-9]+_)*(?P<file_id>quiz-[0-9]+-[a-z-]+?)(?:-[0-9]+)?\.ipynb$"
)

# Feedback must not show hidden tests or the answer key: strip them and reduce error tracebacks to their message.
from massage_course.grading.nbgrader_api import FEEDBACK_PREPROCESSORS  # noqa: E402

c.GenerateFeedback.preprocessors = FEEDBACK_PREPROCESSORS

# The formgrader shows submissions through nbconvert's HTML exporter, which leaves a notebook's markdown and HTML outputs
# unescaped: a trainee's script would run in the instructor's browser. Every notebook it renders is cleaned first
# (massage_course/grading/safe_display.py); its pages also forbid inline script (massage_course/hub/lab_guard.py).
c.HTMLExporter.sanitize_html = True
c.HTMLExporter.preprocessors = ["massage_course.grading.safe_display.SanitizeSubmission"]

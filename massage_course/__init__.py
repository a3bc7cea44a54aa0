"""Code and reviewed data behind the course *Massage Therapy in the Hospital*.

The folders are the architecture (tests/test_architecture.py keeps the import rules):

- ``topics/``: the subject itself (body regions and muscles, the session planner's rules, the pressure scale,
  evidence pooling) over the reviewed data in ``data/``. Pure Python: no page, no widget, no Jupyter.
- ``lessons/``: what the notebooks and the book's pages show (body map, widgets, self-checks, plots); uses ``topics``.
- ``grading/``: the graded quizzes (item banks, sandboxed autograding, feedback, reports, the exchange); uses
  ``topics`` only, never a page.
- ``site/``: building and serving the book (Sphinx extensions, JupyterLite, pinned JavaScript).
- ``hub/``: where people work: the JupyterLab of one machine and the course hub for a cohort.
- ``cli.py``: the command line, which only parses arguments and calls into one part; ``paths.py``: shared folders.
"""

__version__ = "0.1.0"

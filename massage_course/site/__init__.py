"""Building and serving the book: the strict build, the Sphinx extensions, JupyterLite, the pinned JavaScript, and
the small web server that serves the built pages.

May import: ``topics``, ``lessons`` and ``paths``. Must never: import ``grading`` or ``hub``: the built site is public
to trainees, so nothing that knows an answer key may be reachable from it.
"""

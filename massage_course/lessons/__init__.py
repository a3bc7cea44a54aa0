"""What the notebooks and the book's pages show: the body map, the pressure-scale cards, the evidence explorer's
plots, the session planner's exercise, chapter self-checks, and the widgets that keep working in the static book.

May import: ``topics`` (and itself). Must never: hold a clinical rule or a number of its own (those live in
``topics`` and ``data/``), or import grading: a trainee's kernel and JupyterLite import these modules.
"""

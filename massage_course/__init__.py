"""Code and reviewed data behind the course *Massage Therapy in the Hospital*.

Notebooks and the grading tools import from here; the clinical data an expert reviews lives in ``data/``.
"""

__version__ = "0.1.0"

"""The subject of the course, as code over reviewed data: body regions and muscles (``anatomy``), reading a chart
(``charts``), the session planner's rules (``precautions``) and its feedback on a trainee's plan (``plan_feedback``),
the pressure scale (``pressure_scale``), evidence pooling (``evidence``), and the data loaders (``data_files``).

May import: nothing else of the package (the standard library, numpy, statsmodels, PyMARE, jsonschema, YAML).
Must never: draw HTML, import Jupyter or widgets, or know about grading: everything here is a fact or a rule that a
lesson, a quiz or the command line can use, and that a reviewer can test without a browser.
"""

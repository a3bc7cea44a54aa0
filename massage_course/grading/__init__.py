"""The graded quizzes around nbgrader: item banks and the notebooks made from them, the answer key's leak checks,
the sandboxed kernel, parallel grade runs, feedback pages, reports and item analysis, the exchange, the demo class.

May import: ``topics`` and ``paths``. Must never: import ``lessons``, ``site``, ``hub`` or ``cli``, nor put an answer
where a trainee can read it (the banks stay beside the nbgrader course; see ``quiz_bank``). ``quiz_checks`` is
imported inside the trainee's sandboxed kernel, so this package's ``__init__`` stays empty.
"""

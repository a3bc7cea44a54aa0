"""Where the course's parts live on disk: the one place every part may ask, so that no part imports another just to
find a folder.

Imports nothing of the package (tests/test_architecture.py keeps it so).
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The nbgrader course: nbgrader_config.py, the item banks, and (generated, never committed) releases and submissions.
COURSE_ROOT = PROJECT_ROOT / "assignments"
BUILD_HTML = PROJECT_ROOT / "_build" / "html"
# The course's own state on one machine (Jupyter config and state per mode, a trainee's workspace, what is running);
# ignored by git. Tests point it elsewhere so that they never meet a course a person is running.
STATE = Path(os.environ.get("MASSAGE_COURSE_STATE", PROJECT_ROOT / ".course"))

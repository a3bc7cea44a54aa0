"""``python -m massage_course ...``: the course's command line (see massage_course/cli.py)."""

import sys

from .cli import main

sys.exit(main())

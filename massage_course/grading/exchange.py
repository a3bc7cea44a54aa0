"""nbgrader's collect step, refusing a submission that one account wrote in another trainee's name.

nbgrader names a submission after the trainee its submit step is told about: the account by default, but any name
given with ``nbgrader submit --student NAME`` in a trainee's own terminal. Its collect step only warns when the file's
owner differs, then collects it anyway, so one trainee could replace another's work. On the course hub every trainee is an account of their own, and the file
system records which account wrote each submission: this collect takes each trainee's latest submission written by
that trainee, and leaves any other in the exchange, untouched, with an error naming it. (On one machine and one
account, the trainee's name is that account's, so nothing changes there.) Named in assignments/nbgrader_config.py.
"""

from __future__ import annotations

import glob
import os
import pwd
from pathlib import Path

from nbgrader.exchange.default.collect import ExchangeCollect

from ..paths import COURSE_ROOT


def _writer(path: str) -> str | None:
    try:
        return pwd.getpwuid(os.stat(path).st_uid).pw_name
    except (KeyError, OSError):
        return None


class OwnerCheckedCollect(ExchangeCollect):
    def _genuine(self, record: dict) -> bool:
        return _writer(os.path.join(self.inbound_path, record["filename"])) == record["username"]

    def _sort_by_timestamp(self, records):
        # nbgrader collects the first of each trainee's records: the latest genuine one comes first
        return sorted(records, key=lambda record: (self._genuine(record), record["timestamp"]), reverse=True)

    def init_src(self):
        super().init_src()
        student = self.coursedir.student_id or "*"
        for path in sorted(glob.glob(os.path.join(self.inbound_path, f"{student}+{self.coursedir.assignment_id}+*"))):
            record = self._path_to_record(path)
            if not self._genuine(record):
                self.log.error("Refused %s: it names the trainee %s but the account %s wrote it; it stays in the "
                               "exchange's inbound folder", record["filename"], record["username"],
                               _writer(path) or "an unknown account")
        self.src_records = [record for record in self.src_records if self._genuine(record)]


def prepare_exchange() -> Path:
    """nbgrader's exchange folder must exist and be writable by everyone who submits."""
    exchange = Path(os.environ.get("MASSAGE_COURSE_EXCHANGE", COURSE_ROOT / "exchange"))
    exchange.mkdir(parents=True, exist_ok=True)
    if exchange.stat().st_uid == os.geteuid():  # the course hub's shared exchange is root's, set up by hub/machine.py
        exchange.chmod(0o777)
    return exchange

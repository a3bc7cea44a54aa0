"""First sign-in on the course hub with a one-time sign-up code per person (issue 16, item 13).

The pilot login used to let whoever first typed a roster name claim that account with a password of their choosing.
Now an account without a password opens only with the sign-up code its instructor handed to that person: the code
works once, for that account alone, for ``VALID_DAYS`` days, and the password typed with it becomes the person's
(kept by FirstUseAuthenticator, bcrypt-hashed, as before). After that the code field is left empty. A forgotten
password is reset by issuing a new code (``massage-course hub-codes NAME``), which also removes the old password.

Codes are stored only as scrypt digests with a salt, in a root-only file in the hub's state folder: reading the file
gives nobody a code. A code is 16 letters and digits from an alphabet without look-alikes (31**16, about 2**79), so
guessing one through the login form is hopeless. A password is another matter: it is the person's choice, and the
login form would check as many guesses as a script sends (about four a second, at bcrypt's cost). So after
``FAILED_SIGN_INS_ALLOWED`` failed sign-ins in a row (within ``PAUSE_MINUTES`` minutes of each other), an account's
sign-in is paused for ``PAUSE_MINUTES`` minutes: no password or code is checked, and the form says why. That caps a
guesser at about 480 tries a day per account. The pause is per account, not per address, because the address a
request claims to come from can be forged through the proxy; the price is that someone who keeps typing wrong
passwords for another person's name keeps that person waiting, which the hub's log shows (a warning with the name).
The counts live in the hub's memory: a restart clears them. For hospital deployments, single sign-on replaces all
of this (deploy/OPERATIONS.md, "Authentication in production").
"""

from __future__ import annotations

import dbm
import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path

from firstuseauthenticator import FirstUseAuthenticator
from traitlets import Integer, Unicode, default

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud or copied from paper without doubt
CODE_LENGTH = 16
VALID_DAYS = 14
FAILED_SIGN_INS_ALLOWED = 5  # a person who mistypes twice or three times is never paused
PAUSE_MINUTES = 15
CODES_FILE = "sign-up-codes.json"
PASSWORDS_FILE = "passwords.dbm"


def new_code() -> str:
    """A fresh code, in groups of four for reading: ``K7PM-3QXH-...``."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def _normal(code: str) -> str:
    """What a person may type: any case, with or without the dashes or spaces."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _digest(name: str, code: str, salt: bytes) -> str:
    # scrypt: slow to guess even with the file in hand; the name is bound in, so a code opens one account only
    return hashlib.scrypt(f"{name}:{_normal(code)}".encode(), salt=salt, n=2**14, r=8, p=1, dklen=32).hex()


class CodeBook:
    """The pending sign-up codes of one hub, by login name (a root-only JSON file of salted digests)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}

    def _write(self, entries: dict) -> None:
        temporary = self.path.with_name(self.path.name + ".new")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(entries, handle, indent=1)
        os.replace(temporary, self.path)  # never half a file, even if the hub reads it at that moment

    def issue(self, names, days: int = VALID_DAYS, now: float | None = None) -> dict[str, str]:
        """New codes for ``names`` (replacing any pending ones); returns each name's code, to hand out once."""
        now = time.time() if now is None else now
        entries, codes = self._read(), {}
        for name in names:
            codes[name] = new_code()
            salt = secrets.token_bytes(16)
            entries[name] = {"salt": salt.hex(), "digest": _digest(name, codes[name], salt),
                             "expires": now + days * 86400}
        self._write(entries)
        return codes

    def pending(self, now: float | None = None) -> set[str]:
        """Names with a code that still works."""
        now = time.time() if now is None else now
        return {name for name, entry in self._read().items() if entry["expires"] > now}

    def matches(self, name: str, code: str, now: float | None = None) -> bool:
        """Whether ``code`` is ``name``'s pending code and has not expired."""
        now = time.time() if now is None else now
        entry = self._read().get(name)
        if not entry or not code or entry["expires"] <= now:
            return False
        return hmac.compare_digest(_digest(name, code, bytes.fromhex(entry["salt"])), entry["digest"])

    def consume(self, name: str) -> None:
        entries = self._read()
        if entries.pop(name, None) is not None:
            self._write(entries)


def has_password(passwords: str | Path, name: str) -> bool:
    """Whether ``name`` has set a password (FirstUseAuthenticator's dbm file)."""
    try:
        with dbm.open(str(passwords), "r") as db:
            return name.encode() in db
    except dbm.error:  # no file yet: nobody has signed in
        return False


def forget_password(passwords: str | Path, name: str) -> None:
    with dbm.open(str(passwords), "c", 0o600) as db:
        if name.encode() in db:
            del db[name.encode()]


def codes_for_newcomers(hub_state: Path, names) -> dict[str, str]:
    """Codes for everyone in ``names`` who has neither a password nor a code that still works (run at hub start)."""
    book = CodeBook(hub_state / CODES_FILE)
    waiting = book.pending()
    newcomers = [n for n in names if not has_password(hub_state / PASSWORDS_FILE, n) and n not in waiting]
    return book.issue(newcomers) if newcomers else {}


def reissue(hub_state: Path, names) -> dict[str, str]:
    """New codes for ``names``, removing their passwords: how an instructor resets a forgotten password."""
    for name in names:
        forget_password(hub_state / PASSWORDS_FILE, name)
    return CodeBook(hub_state / CODES_FILE).issue(names)


def codes_table(codes: dict[str, str], days: int = VALID_DAYS) -> str:
    lines = [f"Sign-up codes: hand each person their own (each works once, for {days} days; at the first sign-in",
             "they type their login name, the password they choose, and the code):"]
    lines += [f"  {name:<32} {code}" for name, code in sorted(codes.items())]
    return "\n".join(lines)


class SignUpCodeAuthenticator(FirstUseAuthenticator):
    """FirstUseAuthenticator, except that the first password of an account is accepted only with its sign-up code."""

    codes_path = Unicode(config=True, help="The hub's sign-up code file (CodeBook)")

    @default("request_otp")
    def _ask_for_the_code(self):
        return True

    @default("otp_prompt")
    def _code_prompt(self):
        return "Sign-up code (first sign-in only; leave empty afterwards):"

    failed_sign_ins_allowed = Integer(FAILED_SIGN_INS_ALLOWED, config=True,
                                      help="Failed sign-ins in a row after which an account's sign-in pauses")
    pause_minutes = Integer(PAUSE_MINUTES, config=True, help="How long a paused account's sign-in stays paused")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # roster names only (others are turned away before counting), so both stay as small as the roster
        self._failures: dict[str, list[float]] = {}  # times of an account's failed sign-ins since its last success
        self._paused_until: dict[str, float] = {}

    async def authenticate(self, handler, data):
        name = self.normalize_username(data.get("username", ""))
        if not name or not self._user_exists(name):
            return None
        now = time.monotonic()
        if self._paused_until.get(name, 0) > now:
            wait = max(1, round((self._paused_until[name] - now) / 60))
            handler.custom_login_error = (
                f"Too many failed sign-ins for this account, so its sign-in is paused. Try again in about {wait} "
                "minutes, or ask your instructor.")
            return None
        # nothing below suspends (the password check is synchronous): no parallel request slips between check and count
        signed_in = await self._check(handler, data, name)
        if signed_in:
            self._failures.pop(name, None)
            return signed_in
        failures = [t for t in self._failures.get(name, []) if now - t < self.pause_minutes * 60] + [now]
        self._failures[name] = failures
        if len(failures) >= self.failed_sign_ins_allowed:
            self._paused_until[name] = now + self.pause_minutes * 60
            self._failures.pop(name)
            self.log.warning("Sign-in for %s paused for %d minutes after %d failed attempts (the last from %s)",
                             name, self.pause_minutes, len(failures), handler.request.remote_ip)
        return None

    async def _check(self, handler, data, name):
        """The sign-in itself: the password, or for an account without one, the sign-up code and a new password."""
        if has_password(self.dbm_path, name):
            return await super().authenticate(handler, data)  # the code field is ignored from now on
        book = CodeBook(self.codes_path)
        if not book.matches(name, data.get("otp", "")):
            handler.custom_login_error = (
                "This account has no password yet: type your login name, the password you choose and the sign-up "
                "code your instructor gave you. A code works once and for a limited time; ask your instructor for a "
                "new one if it does not work.")
            return None
        if not self._validate_password(data.get("password", "")):
            handler.custom_login_error = (f"Choose a password of at least {self.min_password_length} characters "
                                          "(your sign-up code still works).")
            return None
        # no await between the check above and here: two sign-ins with one code cannot both pass
        signed_in = await super().authenticate(handler, data)
        if signed_in:
            book.consume(name)
        return signed_in

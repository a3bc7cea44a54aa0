"""One-time sign-up codes for the course hub's first sign-in (issue 16, item 13): what the code file keeps, and what
opens an account. The sign-in itself, through a real JupyterHub with real accounts, is in test_hub.py."""

from __future__ import annotations

import dbm
import json
import stat

import pytest

from massage_course.hub import sign_up


def test_a_code_is_sixteen_characters_without_look_alikes_in_groups_of_four():
    code = sign_up.new_code()
    groups = code.split("-")
    assert [len(g) for g in groups] == [4, 4, 4, 4]
    assert set("".join(groups)) <= set(sign_up.CODE_ALPHABET)
    assert not set("01OIL") & set(sign_up.CODE_ALPHABET)
    assert len({sign_up.new_code() for _ in range(200)}) == 200


def test_the_code_file_is_root_only_and_never_holds_a_code_in_plain_form(tmp_path):
    book = sign_up.CodeBook(tmp_path / sign_up.CODES_FILE)
    codes = book.issue(["chen", "okafor"])
    text = (tmp_path / sign_up.CODES_FILE).read_text()
    assert stat.S_IMODE((tmp_path / sign_up.CODES_FILE).stat().st_mode) == 0o600
    for code in codes.values():
        assert code not in text and code.replace("-", "") not in text
    assert set(json.loads(text)) == {"chen", "okafor"}


def test_a_code_opens_only_its_own_account_and_only_until_it_expires(tmp_path):
    book = sign_up.CodeBook(tmp_path / sign_up.CODES_FILE)
    codes = book.issue(["chen", "okafor"], days=14, now=1_000_000)
    assert book.matches("chen", codes["chen"], now=1_000_001)
    assert book.matches("chen", codes["chen"].lower().replace("-", " "), now=1_000_001)  # typed loosely
    assert not book.matches("okafor", codes["chen"], now=1_000_001)  # someone else's code
    assert not book.matches("chen", "", now=1_000_001)
    assert not book.matches("chen", codes["okafor"], now=1_000_001)
    assert not book.matches("smith", codes["chen"], now=1_000_001)  # no code issued
    assert not book.matches("chen", codes["chen"], now=1_000_000 + 14 * 86400 + 1)  # expired
    assert book.pending(now=1_000_001) == {"chen", "okafor"}


def test_a_used_code_is_gone_and_a_new_code_replaces_the_old_one(tmp_path):
    book = sign_up.CodeBook(tmp_path / sign_up.CODES_FILE)
    first = book.issue(["chen"])["chen"]
    book.consume("chen")
    assert not book.matches("chen", first) and book.pending() == set()
    second = book.issue(["chen"])["chen"]
    third = book.issue(["chen"])["chen"]
    assert not book.matches("chen", second) and book.matches("chen", third)


def test_codes_go_to_newcomers_only_and_a_reissue_resets_the_password(tmp_path):
    with dbm.open(str(tmp_path / sign_up.PASSWORDS_FILE), "c", 0o600) as db:
        db[b"chen"] = b"a bcrypt hash"  # chen has signed in before
    first = sign_up.codes_for_newcomers(tmp_path, ["chen", "okafor", "smith"])
    assert set(first) == {"okafor", "smith"}
    assert sign_up.codes_for_newcomers(tmp_path, ["chen", "okafor", "smith"]) == {}  # still pending: not replaced
    again = sign_up.reissue(tmp_path, ["chen"])
    assert not sign_up.has_password(tmp_path / sign_up.PASSWORDS_FILE, "chen")
    assert sign_up.CodeBook(tmp_path / sign_up.CODES_FILE).matches("chen", again["chen"])
    assert "chen" in sign_up.codes_table(again) and again["chen"] in sign_up.codes_table(again)


def test_hub_codes_refuses_names_off_the_roster_and_a_missing_hub(tmp_path, capsys):
    from massage_course.hub import machine

    if machine.os.geteuid() != 0:
        pytest.skip("the sign-up codes are root's")
    assert machine.hub_codes_command(str(tmp_path), ["chen"]) == 2
    assert "no course hub" in capsys.readouterr().err
    hub_state = machine.Site(tmp_path.resolve()).hub
    hub_state.mkdir(parents=True)
    (hub_state / "settings.json").write_text(json.dumps({"instructors": ["rivera"], "trainees": ["chen"]}))
    assert machine.hub_codes_command(str(tmp_path), ["chen", "mallory"]) == 2
    assert "not on the hub's roster: mallory" in capsys.readouterr().err
    assert machine.hub_codes_command(str(tmp_path), ["chen"]) == 0
    assert "chen" in capsys.readouterr().out

"""`pulse init` (first admin), `pulse user add|list|disable`, `pulse key create|list|revoke`."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from pulse.access import audit, keys, users, write_keys
from pulse.cli import app as cli
from pulse.store.store import connect

runner = CliRunner()


def run(*args: str):
    result = runner.invoke(cli, list(args))
    return result


def test_init_creates_the_first_admin_once(store_url):
    first = run("init", "--db", store_url)
    assert first.exit_code == 0, first.output
    match = re.search(r"user (\S+) password (\S+)", first.stdout)
    assert match and match.group(1) == "admin"
    write_key = re.search(r"write key \(shown once\): (\S+)", first.stdout).group(1)
    again = run("init", "--db", store_url)
    assert again.exit_code == 0 and "first admin" not in again.stdout
    store = connect(store_url)
    try:
        outcome, user = users.authenticate(store, "admin", match.group(2))
        assert outcome == "ok" and user.role == "platform_admin"
        assert write_keys.lookup(store, write_key).partner_id is None
    finally:
        store.close()


def test_user_add_list_disable(store_url):
    added = run("user", "add", "pat", "--role", "partner", "--partner", "pA", "--db", store_url)
    assert added.exit_code == 0, added.output
    password = re.search(r"password \(shown once\): (\S+)", added.stdout).group(1)
    chosen = run(
        "user", "add", "sue", "--role", "support", "--password", "s3cret!", "--db", store_url
    )
    assert chosen.exit_code == 0 and "shown once" not in chosen.stdout
    bad = run("user", "add", "x", "--role", "partner", "--db", store_url)
    assert bad.exit_code == 2 and "partner" in bad.output
    listed = run("user", "list", "--db", store_url)
    assert "pat" in listed.stdout and "pA" in listed.stdout and "sue" in listed.stdout
    assert run("user", "disable", "sue", "--db", store_url).exit_code == 0
    assert run("user", "disable", "sue", "--db", store_url).exit_code == 2
    assert "disabled" in run("user", "list", "--db", store_url).stdout
    store = connect(store_url)
    try:
        assert users.authenticate(store, "pat", password)[0] == "ok"
        assert users.authenticate(store, "sue", "s3cret!")[0] == "disabled"
        assert [e.action for e in audit.entries(store, actor="cli")] == [
            "user_disabled",
            "user_created",
            "user_created",
        ]
    finally:
        store.close()


def test_key_create_list_revoke(store_url):
    created = run(
        "key", "create", "--role", "marketing", "--scope", "read", "--scope", "export",
        "--label", "sheets", "--db", store_url,
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    secret = re.search(r"API key \(shown once\): (\S+)", created.stdout).group(1)
    store = connect(store_url)
    try:
        key = keys.lookup(store, secret)
        assert (key.role, key.scopes, key.label) == ("marketing", {"read", "export"}, "sheets")
        listed = run("key", "list", "--db", store_url)
        assert key.id in listed.stdout and "never" in listed.stdout
        assert secret not in listed.stdout
        assert run("key", "revoke", key.id, "--db", store_url).exit_code == 0
        assert keys.lookup(store, secret) is None
        assert key.id not in run("key", "list", "--db", store_url).stdout
        assert key.id in run("key", "list", "--revoked", "--db", store_url).stdout
        assert run("key", "revoke", key.id, "--db", store_url).exit_code == 2
        bad = run("key", "create", "--role", "marketing", "--scope", "admin", "--db", store_url)
        assert bad.exit_code == 2
    finally:
        store.close()

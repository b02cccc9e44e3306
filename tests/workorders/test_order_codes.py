"""Order codes are read out on the phone: short, and never given twice."""

from __future__ import annotations

import secrets


def test_a_drawn_code_already_taken_is_drawn_again(client, world, monkeypatch):
    world.user("agent1", "agent")
    headers = world.headers("agent1")
    ids = world.customer("张三")
    draws = iter(["abc123", "abc123", "def456"])
    real = secrets.token_hex
    monkeypatch.setattr(secrets, "token_hex", lambda n=None: next(draws) if n == 3 else real(n))
    first, second = world.take_order(headers, ids), world.take_order(headers, ids)
    assert first.status_code == second.status_code == 201, (first.get_json(), second.get_json())
    assert first.get_json()["code"].endswith("-ABC123")
    assert second.get_json()["code"].endswith("-DEF456")

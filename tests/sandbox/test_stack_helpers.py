"""The pure helpers of sandbox/stack.py."""

from __future__ import annotations

from sandbox.stack import x_screen_name


def test_each_x_id_gets_a_handle_of_its_own_within_xs_15_characters():
    ids = ["861000000000000001", "770000000000000001", "1", "0", str(2**63 - 1)]
    names = [x_screen_name(user) for user in ids]
    assert len(set(names)) == len(ids)  # the same last digits, different handles
    assert all(1 < len(name) <= 15 and name.isalnum() for name in names)
    assert x_screen_name("35") == "cz" and x_screen_name("36") == "c10"

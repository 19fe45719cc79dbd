"""Registration rules as plain functions."""

from __future__ import annotations

import pytest

from domain.committees import Committee, RegistrationRefused, Status, check_can_register, clean_name, decide


def committee(status: Status) -> Committee:
    return Committee(1, -100, "Oil workers", "mangystau", "workplace", status, True, 0)


def test_a_group_registers_once():
    check_can_register(None)
    check_can_register(committee(Status.REJECTED))
    for status, reason in ((Status.PENDING, "already-pending"), (Status.ACTIVE, "already-registered")):
        with pytest.raises(RegistrationRefused) as refused:
            check_can_register(committee(status))
        assert refused.value.reason == reason


def test_names_are_one_trimmed_line_of_bounded_length():
    assert clean_name("  Zhanaozen\n oil   workers ") == "Zhanaozen oil workers"
    for bad, reason in (("   ", "name-empty"), ("x" * 65, "name-too-long")):
        with pytest.raises(RegistrationRefused) as refused:
            clean_name(bad)
        assert refused.value.reason == reason


def test_only_pending_committees_are_decided():
    assert decide(committee(Status.PENDING), approve=True) is Status.ACTIVE
    assert decide(committee(Status.PENDING), approve=False) is Status.REJECTED
    with pytest.raises(RegistrationRefused):
        decide(committee(Status.ACTIVE), approve=False)

"""The flush-bg-after-end fix: a background request's end flushes the bg list again.

On v2, scope ``background-limit`` has an idle entry beside a bg-list request the
limits would let go (``fuse_uring_req_end()`` flushes before ``fuse_request_end()``
drops ``fc->active_background``). The fix removes exactly that, and ``all-fixes``
carries it, so that every non-informational property holds there.
"""
from __future__ import annotations

from bufring.checker.explore.explorer import explore_scope, scope_status
from bufring.checker.smt.ringlogic import overrides_outside_abstraction
from bufring.checker.verdict import Status
from bufring.model.fixes import ALL_FIXES, FLUSH_BG_AFTER_END
from bufring.model.variant import V2
from bufring.specs import catalog
from bufring.specs.scopes import load_scope

WAIT_PROPERTIES = ("flow.work_conserving", "flow.eventually_dispatched")


def _statuses(variant):
    run = explore_scope(variant, load_scope("background-limit"))
    return {pid: scope_status(catalog.get(pid), run) for pid in WAIT_PROPERTIES}


def test_v2_lets_a_bg_request_wait_while_the_limits_allow_it():
    assert set(_statuses(V2).values()) == {Status.VIOLATED}


def test_the_fix_and_all_fixes_remove_the_wait():
    for variant in (FLUSH_BG_AFTER_END, ALL_FIXES):
        assert Status.VIOLATED not in _statuses(variant).values(), variant.name


def test_prove_vouches_only_for_the_known_replacement():
    assert overrides_outside_abstraction(FLUSH_BG_AFTER_END) == []
    assert overrides_outside_abstraction(ALL_FIXES) == []
    custom = V2.derive("custom", "doc", fuse_uring_req_end=lambda k, q, i, req: None)
    assert overrides_outside_abstraction(custom) == ["fuse_uring_req_end"]

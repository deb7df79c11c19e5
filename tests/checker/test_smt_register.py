"""The SMT engine's REGISTER path (``checker.smt.register``) against the model.

``register_path`` runs on ``CONCRETE`` too; on every input here it must give the
model's return value, and publish a queue and add an entry exactly when the
model does. This is the cross-check of the one thing the engine adds to the rule
lists: the order in which ``fuse_uring_register()`` runs them.
"""
from __future__ import annotations

import itertools
import random

import pytest
from bufring.checker.smt.register import Existing, register_path
from bufring.model.actions import Register
from bufring.model.cint import CONCRETE
from bufring.model.config import Config
from bufring.model.system import next_state
from bufring.model.register import register_values
from bufring.model.state import INITIAL_STATE, get_queue
from bufring.model.builtin import builtin_variants
from bufring.model.variant import V2

CFG = Config()
QUEUE_DEPTHS = (0, 1, 2, 3, 65535)
BUF_SIZES = (0, 131071, 131072, 1 << 20, (1 << 32) - 1)
HEADERS = ((0, 0), (4096, 287), (4096, 288), (4096, 576), (0x10000000, 864),
           ((1 << 47) - 4096, 1), ((1 << 64) - 1, 1), (4096, 1 << 63))
PAYLOADS = ((0, 393216), (0x20000000, 0), (0x20000000, 131071), (0x20000000, 131072),
            (0x20000000, 65536 * 131072), ((1 << 47) - 8192, 8192), (4096, (1 << 64) - 1))


def registers(n: int, seed: int):
    rng = random.Random(seed)
    for _ in range(n):
        yield Register(qid=rng.choice((0, 0, 1)), flags=rng.choice((0, 1, 1, 2, 3, 1 << 63)),
                       buf_index=rng.choice((0, 1, 2, 65535)), queue_depth=rng.choice(QUEUE_DEPTHS),
                       buf_size=rng.choice(BUF_SIZES), headers=rng.choice(HEADERS),
                       payload=rng.choice(PAYLOADS))


def signed(ret: int) -> int:
    return ret - (1 << 32) if ret >= 1 << 31 else ret


def model_outcome(variant, state, reg):
    post, obs = next_state(variant, CFG, state, reg)
    before, after = get_queue(state, reg.qid), get_queue(post, reg.qid)
    added = after is not None and len(after.ents) > (len(before.ents) if before is not None else 0)
    return obs.ret, before is None and after is not None, added


@pytest.mark.parametrize("variant", list(builtin_variants().values()), ids=lambda v: v.name)
def test_register_path_on_concrete_values_agrees_with_the_model_for_a_new_queue(variant):
    for reg in registers(600, seed=4):
        want = model_outcome(variant, INITIAL_STATE, reg)
        got = register_path(CONCRETE, variant, register_values(CFG, reg), Existing.NONE)
        assert (signed(got.ret), got.created, got.ent) == want, reg


@pytest.mark.parametrize("first_flags, existing", [(1, Existing.BUFRING), (0, Existing.LEGACY)])
def test_register_path_on_concrete_values_agrees_with_the_model_for_an_existing_queue(first_flags, existing):
    first = Register(qid=0, flags=first_flags, queue_depth=2, buf_size=131072,
                     headers=(0x10000000, 576), payload=(0x20000000, 393216))
    state, obs = next_state(V2, CFG, INITIAL_STATE, first)
    assert obs.ret == 0
    depth = get_queue(state, 0).bufring.queue_depth if existing is Existing.BUFRING else None
    for reg in registers(400, seed=9):
        reg = reg._replace(qid=0)
        want = model_outcome(V2, state, reg)
        got = register_path(CONCRETE, V2, register_values(CFG, reg, depth), existing)
        assert (signed(got.ret), got.created, got.ent) == want, reg


def test_register_path_covers_every_boundary_value_combination_of_the_setup_checks():
    for qd, bs, hdr, pay in itertools.product(QUEUE_DEPTHS, BUF_SIZES, HEADERS, PAYLOADS):
        reg = Register(qid=0, flags=1, buf_index=1, queue_depth=qd, buf_size=bs, headers=hdr, payload=pay)
        want = model_outcome(V2, INITIAL_STATE, reg)
        got = register_path(CONCRETE, V2, register_values(CFG, reg), Existing.NONE)
        assert (signed(got.ret), got.created, got.ent) == want, reg

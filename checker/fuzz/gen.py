"""Hypothesis strategies for the model's inputs: configs, REGISTERs, requests, commits.

Shared by the deep invariant runs (``checker.fuzz.fuzzer``) and the conformance driver
(``checker.fuzz.conformance``). Every strategy shrinks toward the plainest value: the
default-looking config, a valid layout at ordinary addresses, the first queue.

A REGISTER is drawn as a *class*: ``valid`` (a sensible layout that succeeds most of
the time), or one of :data:`INVALID_CLASSES`, each breaking one check of SEMANTICS
§3.2 to §3.4 at its boundary, or ``combo`` (two faults at once, so that an
implementation checking them in another order answers another errno).

A :class:`Focus` forces the draws one situation class of the conformance driver needs
(a counter width, a region at address 0 or at the top of user space, a ring size, a
REGISTER class, background requests); ``NO_FOCUS`` leaves every draw as it is
(``checker.fuzz.situations``).

The counter rule of TRACE-FORMAT (``nbufs < 2^bits`` and ``counter_start + nbufs <=
2^bits``) is kept by construction: :func:`nbufs_cap` bounds every layout drawn for a
new buffer ring. The machines still catch the model's ``InvalidStep`` and skip the
step, in case an invalid class turns into an accepted oversized ring.
"""
from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from bufring.model.actions import Commit, Register, Request
from bufring.model.config import Config
from bufring.model.state import EntState, State, get_queue
from bufring.model.uapi import (MAX_RW_COUNT, NBUFS_MAX, REQ_HEADER_SZ,
                                TASK_SIZE_MAX)

__all__ = ["GenOptions", "Focus", "NO_FOCUS", "CONFORMANCE", "DEEP", "configs", "nbufs_cap", "draw_register",
           "make_request", "make_commit", "REQUEST_ARGS", "COMMIT_ARGS", "held_uniques",
           "INVALID_CLASSES"]

U64_MAX = (1 << 64) - 1


@dataclass(frozen=True)
class GenOptions:
    """How wide the generators reach."""

    max_queues: int = 2            # nr_queues is drawn in 1..max_queues
    deep: bool = False             # also large nbufs / queue depths, payload base 0
    max_registers: int = 6         # per queue, on top of one per queue


CONFORMANCE = GenOptions(max_queues=2, deep=False)
DEEP = GenOptions(max_queues=6, deep=True, max_registers=8)


@dataclass(frozen=True)
class Focus:
    """What one run aims at: the generator's draws that a situation class needs
    (``checker.fuzz.situations``), forced; ``None``/``False`` leaves a draw as it is.

    The conformance driver picks a focus per run from the classes not yet covered,
    so that its budget goes to what it has not seen; ``NO_FOCUS`` draws as usual.
    """

    counter_bits: int | None = None
    start: str | None = None              # counter_start kind: zero, wrap_at_setup, near_wrap
    max_background: int | None = None
    max_payload_sz: int | None = None
    fetch_on_register: bool | None = None
    nr_queues: int | None = None
    region: str | None = None             # payload_zero, headers_zero, payload_top, headers_top,
                                          # legacy_payload_zero, legacy_headers_zero, legacy_top
    nbufs: str | None = None              # one, all_room, u16_max
    invalid: str | None = None            # a REGISTER class of INVALID_CLASSES, or "combo"
    background: bool = False              # requests mostly background
    payload: bool = False                 # requests mostly with payload
    unique_base: int | None = None        # index into the machine's UNIQUE_BASES


NO_FOCUS = Focus()


# --- configs ---------------------------------------------------------------------------

def _or(value, drawn):
    """A focus field when it is set, else the drawn value."""
    return drawn if value is None else value


@st.composite
def configs(draw, options: GenOptions = CONFORMANCE, focus: Focus = NO_FOCUS) -> Config:
    """A run configuration: widths 3..32 (any of 1..32 under a focus), starts near
    the wrap, small payload sizes."""
    bits = _or(focus.counter_bits, draw(st.one_of(st.sampled_from([32, 3, 4, 5, 8, 16]),
                                                  st.integers(3, 32))))
    span = 1 << bits
    kind = _or(focus.start, draw(st.sampled_from(["zero", "wrap_at_setup", "near_wrap",
                                                  "wrap_at_setup", "any"])))
    if kind == "zero":
        start = 0
    elif kind == "wrap_at_setup":
        # a ring of the largest size this allows has its tail wrap at setup; mostly
        # sizes that do not divide 2^bits, where the wrap moves the slot index
        start = span - min(span - 1, draw(st.sampled_from([3, 5, 6, 7, 2, 4, 12])))
    elif kind == "near_wrap":
        start = span - draw(st.integers(min(span - 1, 2), min(span - 1, 16)))
    else:
        start = draw(st.integers(0, span - 2))
    return Config(
        nr_queues=_or(focus.nr_queues, draw(st.one_of(st.just(1), st.integers(1, options.max_queues)))),
        max_payload_sz=_or(focus.max_payload_sz, draw(st.sampled_from([8192, 12288, 16384, 131072]))),
        max_background=_or(focus.max_background, draw(st.one_of(st.integers(0, 2), st.integers(0, 12)))),
        counter_bits=bits,
        counter_start=start,
        fetch_on_register=_or(focus.fetch_on_register, draw(st.booleans())),
    )


def nbufs_cap(cfg: Config) -> int:
    """The most buffers a new ring may have under this config's counter rule."""
    span = 1 << cfg.counter_bits
    return max(1, min(span - 1, span - cfg.counter_start, NBUFS_MAX))


# --- REGISTER ------------------------------------------------------------------------------

INVALID_CLASSES = (
    "qid_range", "unknown_flags", "zero_depth", "zero_buf_size", "headers_negative",
    "payload_negative", "headers_fault", "payload_fault", "headers_small", "buf_size_small",
    "nbufs_zero", "nbufs_many", "buf_index_range", "mode_mismatch", "legacy_headers_small",
    "legacy_payload_small", "rw_cap",
)
# Two faults whose errnos differ, or whose checks sit at different places of the
# kernel's order (SEMANTICS §3.2 to §3.4): an implementation that checks them in
# another order answers another errno, or the same errno for another reason.
COMBOS = (
    ("headers_fault", "headers_small"), ("payload_fault", "buf_size_small"),
    ("payload_fault", "nbufs_zero"), ("headers_fault", "buf_size_small"),
    ("payload_fault", "headers_small"), ("headers_fault", "payload_negative"),
    ("zero_depth", "headers_fault"), ("zero_buf_size", "payload_fault"),
    ("qid_range", "headers_fault"), ("unknown_flags", "payload_fault"),
    ("headers_small", "buf_size_small"), ("buf_size_small", "nbufs_many"),
    ("headers_fault", "payload_fault"), ("headers_negative", "payload_fault"),
    ("mode_mismatch", "headers_fault"), ("unknown_flags", "mode_mismatch"),
    ("legacy_headers_small", "payload_fault"), ("qid_range", "unknown_flags"),
    ("rw_cap", "headers_small"), ("rw_cap", "payload_fault"),
)


def _region_base(data, where: str, qid: int, length: int, options: GenOptions,
                 focus: Focus = NO_FOCUS) -> int:
    """A user address for a region: ordinary, at the very top of user space, or 0."""
    kinds = ["normal", "top"] + (["zero"] if options.deep else [])
    kind = data.draw(st.sampled_from(kinds), label=f"{where} base")
    if focus.region in (f"{where}_zero", f"{where}_top"):
        kind = focus.region.rpartition("_")[2]
    if kind == "top" and length <= TASK_SIZE_MAX:
        return TASK_SIZE_MAX - length
    if kind == "zero":
        return 0
    return (0x10000000 if where == "headers" else 0x40000000) * (qid + 1)


def _new_bufring(data, cfg: Config, qid: int, options: GenOptions, focus: Focus = NO_FOCUS) -> dict:
    """A layout that creates a buffer ring: headers >= 288 * depth, buf_size >=
    max_payload_sz, payload = nbufs * buf_size (sometimes with trailing bytes)."""
    depth_max = 1024 if options.deep and data.draw(st.integers(0, 7)) == 0 else 6
    depth = data.draw(st.integers(1, depth_max), label="queue_depth")
    buf_size = cfg.max_payload_sz + data.draw(st.sampled_from([0, 4096, 1]), label="buf_size extra")
    if focus.nbufs == "u16_max":
        buf_size = cfg.max_payload_sz
    cap = nbufs_cap(cfg)
    # deep runs: now and then a large ring, rarely the largest the rules allow (65535);
    # the catalog's ring predicates cost O(nbufs) per step, so large rings stay rare
    roll = data.draw(st.integers(0, 63), label="ring size class") if options.deep else 63
    nb_max = (cap if roll == 0 else min(cap, 1024) if roll <= 4 else
              min(cap, 64) if roll <= 12 else min(cap, 7))
    nb_max = min(nb_max, (MAX_RW_COUNT - depth * REQ_HEADER_SZ) // buf_size)
    # all the room the counter rule leaves (the tail wraps right away, SEMANTICS §8.2
    # item 12), or any count up to the bound
    nb_max = max(1, nb_max)
    if nb_max <= 16 and data.draw(st.integers(0, 2), label="all the room") < 2:
        nbufs = nb_max
    else:
        nbufs = data.draw(st.integers(1, nb_max), label="nbufs")
    if focus.nbufs is not None:
        room = max(1, min(cap, (MAX_RW_COUNT - depth * REQ_HEADER_SZ) // buf_size))
        nbufs = {"one": 1, "all_room": room, "u16_max": min(room, NBUFS_MAX)}[focus.nbufs]
    trailing = data.draw(st.sampled_from([0, buf_size - 1, 1]), label="trailing bytes")
    headers_len = depth * REQ_HEADER_SZ + data.draw(st.sampled_from([0, REQ_HEADER_SZ, 1]))
    payload_len = nbufs * buf_size + trailing
    return dict(qid=qid, flags=1, buf_index=data.draw(st.integers(0, depth - 1), label="buf_index"),
                queue_depth=depth, buf_size=buf_size,
                headers=(_region_base(data, "headers", qid, headers_len, options, focus), headers_len),
                payload=(_region_base(data, "payload", qid, payload_len, options, focus), payload_len))


def _legacy(data, cfg: Config, qid: int, options: GenOptions, focus: Focus = NO_FOCUS) -> dict:
    """A legacy (flags 0) REGISTER with its own 288-byte header and payload iovecs."""
    k = data.draw(st.integers(0, 63), label="legacy slot")
    headers_len = REQ_HEADER_SZ + data.draw(st.sampled_from([0, 1, 4096]))
    payload_len = cfg.max_payload_sz + data.draw(st.sampled_from([0, 1, 4096]))
    hbase = 0x20000000 * (qid + 1) + k * 0x1000
    pbase = 0x800000000 * (qid + 1) + k * 0x100000
    if options.deep and data.draw(st.integers(0, 15)) == 0:
        pbase = 0
    if focus.region == "legacy_payload_zero":
        pbase = 0
    elif focus.region == "legacy_headers_zero":
        hbase = 0
    elif focus.region == "legacy_top":
        pbase = TASK_SIZE_MAX - payload_len
    return dict(qid=qid, flags=0, buf_index=0, queue_depth=0, buf_size=0,
                headers=(hbase, headers_len), payload=(pbase, payload_len))


def _join_existing(data, state: State, qid: int) -> dict:
    """Another REGISTER on an existing queue, mostly with the queue's own init fields."""
    q = get_queue(state, qid)
    r = q.bufring
    if r is None:
        return None
    last = r.queue_depth - 1
    args = dict(qid=qid, flags=1, buf_index=data.draw(st.one_of(st.integers(0, last), st.just(last)),
                                                      label="buf_index"),
                queue_depth=r.queue_depth, buf_size=r.buf_size,
                headers=(r.headers, r.headers_len), payload=(r.payload, r.payload_len))
    if data.draw(st.integers(0, 5), label="init fields differ") == 0:
        # later REGISTERs' init fields are not checked (SEMANTICS §3.3 "Consequences")
        args.update(queue_depth=data.draw(st.integers(0, 0xFFFF)),
                    buf_size=data.draw(st.integers(0, 0xFFFFFFFF)))
    return args


def _valid(data, cfg: Config, state: State, options: GenOptions, focus: Focus = NO_FOCUS) -> dict:
    missing = [qid for qid in range(cfg.nr_queues) if get_queue(state, qid) is None]
    if missing and data.draw(st.integers(0, 4), label="new queue first") != 4:
        qid = missing[0]
    else:
        qid = data.draw(st.integers(0, cfg.nr_queues - 1), label="qid")
    q = get_queue(state, qid)
    if q is None:
        legacy = data.draw(st.integers(0, 4), label="legacy queue") == 4
        if legacy or (focus.region or "").startswith("legacy"):
            return _legacy(data, cfg, qid, options, focus)
        return _new_bufring(data, cfg, qid, options, focus)
    if q.bufring is None:
        return _legacy(data, cfg, qid, options, focus)
    return _join_existing(data, state, qid)


def _break(data, kind: str, args: dict, cfg: Config, state: State) -> dict:
    """Apply one invalid class to a REGISTER's arguments."""
    a = dict(args)
    hb, hl = a["headers"]
    pb, pl = a["payload"]
    depth = max(a["queue_depth"], 1)
    q = get_queue(state, a["qid"])
    if kind == "qid_range":
        a["qid"] = data.draw(st.integers(cfg.nr_queues, 0xFFFF), label="qid")
    elif kind == "unknown_flags":
        a["flags"] = a["flags"] | data.draw(st.sampled_from([2, 1 << 63, 0x80, 4]), label="flags")
    elif kind == "zero_depth":
        a["queue_depth"] = 0
    elif kind == "zero_buf_size":
        a["buf_size"] = 0
    elif kind == "headers_negative":
        a["headers"] = (hb, data.draw(st.sampled_from([U64_MAX, 1 << 63])))
    elif kind == "payload_negative":
        a["payload"] = (pb, data.draw(st.sampled_from([U64_MAX, 1 << 63])))
    elif kind == "headers_fault":
        # beyond the user limit whatever the length: a later fault may change the length
        a["headers"] = (TASK_SIZE_MAX + data.draw(st.integers(1, 4096), label="beyond limit"), hl)
    elif kind == "payload_fault":
        a["payload"] = (TASK_SIZE_MAX + data.draw(st.integers(1, 4096), label="beyond limit"), pl)
    elif kind == "headers_small":
        a["headers"] = (hb, max(0, depth * REQ_HEADER_SZ - data.draw(st.integers(1, REQ_HEADER_SZ))))
    elif kind == "buf_size_small":
        a["buf_size"] = max(1, cfg.max_payload_sz - data.draw(st.integers(1, 4096)))
    elif kind == "nbufs_zero":
        bs = max(a["buf_size"], 1)
        a["payload"] = (pb, bs - data.draw(st.integers(1, bs)))
    elif kind == "nbufs_many":
        bs = max(a["buf_size"], 1)
        a["payload"] = (pb, (NBUFS_MAX + 1) * bs)
    elif kind == "buf_index_range":
        ring_depth = q.bufring.queue_depth if q is not None and q.bufring is not None else depth
        beyond = data.draw(st.sampled_from([0, 0, 0, 1, 7]), label="beyond")   # mostly the boundary
        a["buf_index"] = min(0xFFFF, ring_depth + beyond)
    elif kind == "mode_mismatch":
        a["flags"] = a["flags"] ^ 1
    elif kind == "legacy_headers_small":
        a.update(flags=0, headers=(hb, data.draw(st.integers(0, REQ_HEADER_SZ - 1))))
    elif kind == "rw_cap":
        # iov[0] takes nearly all of MAX_RW_COUNT: import_iovec caps iov[1] to what is left
        room = data.draw(st.integers(0, 2 * cfg.max_payload_sz), label="room left")
        length = MAX_RW_COUNT - room
        a["headers"] = (min(hb, TASK_SIZE_MAX - length), length)
    elif kind == "legacy_payload_small":
        a.update(flags=0, payload=(pb, max(0, cfg.max_payload_sz - data.draw(st.integers(1, 4096)))))
    return a


def draw_register(data, cfg: Config, state: State, options: GenOptions,
                  focus: Focus = NO_FOCUS) -> tuple[Register, str]:
    """A REGISTER and its class name (``valid``, one of INVALID_CLASSES, or ``combo:a+b``).
    Under a focus on an invalid class, half of the REGISTERs where that class can show
    are of it."""
    roll = data.draw(st.integers(0, 9), label="register class roll")
    args = _valid(data, cfg, state, options, focus)
    creates = get_queue(state, args["qid"]) is None
    # The setup checks (SEMANTICS §3.3) only run when a REGISTER creates its queue, and a
    # rejected one leaves the queue to create: those REGISTERs are faulty more often.
    valid, single = (4, 7) if creates else (6, 8)
    forced = focus.invalid if roll < 5 and _shows_here(focus.invalid, cfg, state, creates) else None
    if forced == "combo":
        roll = single
    elif forced is None and roll < valid:
        return Register(**args), "valid"
    if forced is not None and forced != "combo" or roll < single:
        # buf_index_range is the only check of a REGISTER that joins a queue: half of
        # its single faults go there, at the boundary
        joining = not creates and roll == valid
        kind = forced or ("buf_index_range" if joining else data.draw(st.sampled_from(INVALID_CLASSES),
                                                                     label="invalid class"))
        kind = _feasible(kind, cfg)
        base = _base_for(data, kind, cfg, state, options, args)
        return Register(**_break(data, kind, base, cfg, state)), kind
    first, second = data.draw(st.sampled_from(COMBOS), label="two faults")
    first, second = _feasible(first, cfg), _feasible(second, cfg)
    base = _base_for(data, first, cfg, state, options, args)
    broken = _break(data, second, _break(data, first, base, cfg, state), cfg, state)
    return Register(**broken), f"combo:{first}+{second}"


def _shows_here(kind: str | None, cfg: Config, state: State, creates: bool) -> bool:
    """Can a REGISTER of class ``kind`` be rejected for it in this state? The setup
    checks need a queue still to create; buf_index_range and mode_mismatch a queue
    to join (of the other mode, for mode_mismatch); the legacy checks a legacy queue
    or one to create."""
    if kind is None:
        return False
    missing = any(get_queue(state, q) is None for q in range(cfg.nr_queues))
    if kind in ("qid_range", "unknown_flags", "rw_cap", "combo"):
        return True
    if kind in ("buf_index_range", "mode_mismatch"):
        return not creates
    if kind.startswith("legacy_"):
        return missing or any(q.bufring is None for _, q in state.queues)
    return missing


def _base_for(data, kind, cfg, state, options, args) -> dict:
    """The valid REGISTER an invalid class starts from: a new bufring layout for the
    setup checks (on a queue that does not exist yet, when there is one)."""
    if kind in ("legacy_headers_small", "legacy_payload_small") or (
            kind == "rw_cap" and data.draw(st.booleans(), label="legacy layout")):
        missing = [q for q in range(cfg.nr_queues) if get_queue(state, q) is None]
        legacy = [q for q, queue in state.queues if queue.bufring is None]
        qid = (legacy + missing + [args["qid"]])[0]
        return _legacy(data, cfg, qid, options)
    if kind in ("buf_index_range", "mode_mismatch", "qid_range", "unknown_flags", "rw_cap"):
        return args
    missing = [q for q in range(cfg.nr_queues) if get_queue(state, q) is None]
    qid = missing[0] if missing else args["qid"]
    return _new_bufring(data, cfg, qid, options)


def _feasible(kind: str, cfg: Config) -> str:
    """``nbufs_many`` needs (65535 + 1) buffers of at least max_payload_sz under the
    MAX_RW_COUNT cap (SEMANTICS §8.2 item 4); with larger payload sizes the cap makes
    the ring smaller instead, so that class becomes ``nbufs_zero``."""
    if kind == "nbufs_many" and (NBUFS_MAX + 1) * (cfg.max_payload_sz + 4096) > MAX_RW_COUNT // 2:
        return "nbufs_zero"
    return kind


# --- requests and commits ---------------------------------------------------------------------
# Drawn as rule arguments (plain numbers the machine maps onto the model's state), which
# is about twice as fast as drawing inside the rule: these are most of the steps.

REQUEST_ARGS = dict(beyond=st.integers(0, 19), qid_pick=st.integers(0, 0xFFFF),
                    payload=st.booleans(), background=st.booleans())
COMMIT_ARGS = dict(roll=st.integers(0, 9), pick=st.integers(0, 0xFFFF),
                   kind=st.sampled_from(["finished", "never", "queued", "wrong_qid", "bad_qid"]),
                   reply=st.sampled_from([0, 0, 0, -2, -5, 1, -512]))


def make_request(cfg: Config, unique: int, beyond: int, qid_pick: int, payload: bool,
                 background: bool) -> Request:
    """A request with a fresh unique on a queue (1 in 20: a qid beyond nr_queues)."""
    if beyond == 19:
        qid = cfg.nr_queues + qid_pick % (0x10000 - cfg.nr_queues)
    else:
        qid = qid_pick % cfg.nr_queues
    return Request(qid=qid, unique=unique, payload=payload, background=background)


def held_uniques(state: State) -> list[tuple[int, int]]:
    """(qid, unique) of every request held by an entry in user space, by qid and ordinal."""
    return [(qid, e.req.unique) for qid, q in state.queues for e in q.ents
            if e.req is not None and e.state == EntState.USERSPACE]


def make_commit(cfg: Config, state: State, finished: list[int], next_unique: int, *, roll: int,
                pick: int, kind: str, reply: int) -> Commit:
    """Mostly (9 in 10) a commit of a request an entry holds in user space; else an id
    that names nothing (finished, queued, never used), a wrong queue, or a bad qid."""
    held = held_uniques(state)
    if held and roll != 9:
        qid, unique = held[pick % len(held)]
        return Commit(qid=qid, commit_id=unique, reply_error=reply)
    queued = [r.unique for _, q in state.queues for r in q.req_queue + q.bg_queue]
    if kind == "finished" and finished:
        unique = finished[pick % len(finished)]
    elif kind == "queued" and queued:
        unique = queued[pick % len(queued)]
    elif kind in ("wrong_qid", "bad_qid") and held:
        unique = held[pick % len(held)][1]
    else:
        unique = (next_unique + 1000, 0, U64_MAX)[pick % 3]
    if kind == "bad_qid":
        qid = cfg.nr_queues + pick % (0x10000 - cfg.nr_queues)
    elif kind == "wrong_qid" and cfg.nr_queues > 1 and held:
        owner = next(q for q, u in held if u == unique)
        qid = (owner + 1) % cfg.nr_queues
    else:
        qid = pick % cfg.nr_queues
    return Commit(qid=qid, commit_id=unique, reply_error=reply)

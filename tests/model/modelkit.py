"""Builders shared by the model tests: actions at the TRACE-FORMAT example
addresses, a runner that keeps every observation, and the expected JSON shapes.

Imported as ``modelkit`` (pytest puts ``tests/model`` on ``sys.path`` because the
folder is not a package). Nothing here has logic of its own beyond arithmetic on
the addresses, so a test reads as "these steps give exactly these observations".
"""
from __future__ import annotations

from bufring.model.actions import Commit, Register, Request
from bufring.model.config import Config
from bufring.model.system import next_state
from bufring.model.state import INITIAL_STATE, State, get_queue
from bufring.model.uapi import DEFAULT_MAX_PAYLOAD_SZ, REQ_HEADER_SZ
from bufring.model.variant import V2

HEADERS = 0x10000          # headers region base (iov[0])
PAYLOAD = 0x1000000        # payload pool base (iov[1]): buffer i at PAYLOAD + i * BUF
BUF = DEFAULT_MAX_PAYLOAD_SZ   # 131072, the default max_payload_sz and our buf_size
HDR = REQ_HEADER_SZ        # 288
BUFRING = 1                # FUSE_URING_BUFRING

EINVAL, EFAULT, ENOENT, EIO, ENOTCONN = -22, -14, -2, -5, -107


def breg(qid=0, buf_index=0, queue_depth=4, nbufs=2, buf_size=BUF, headers=HEADERS,
         payload=PAYLOAD, **over) -> Register:
    """A bufring REGISTER that is accepted: ``queue_depth`` header slots, ``nbufs``
    buffers of ``buf_size``. ``headers`` and ``payload`` are a base address or a
    whole ``(base, len)`` iovec; keyword ``over`` replaces any other Register field."""
    fields = dict(qid=qid, flags=BUFRING, buf_index=buf_index, queue_depth=queue_depth,
                  buf_size=buf_size,
                  headers=headers if isinstance(headers, tuple) else (headers, queue_depth * HDR),
                  payload=payload if isinstance(payload, tuple) else (payload, nbufs * buf_size))
    fields.update(over)
    return Register(**fields)


def lreg(qid=0, headers=HEADERS, payload=PAYLOAD, **over) -> Register:
    """A legacy (flags 0) REGISTER that is accepted: one header, one max-size payload
    (``headers``/``payload``: a base address or a whole ``(base, len)`` iovec)."""
    fields = dict(qid=qid,
                  headers=headers if isinstance(headers, tuple) else (headers, HDR),
                  payload=payload if isinstance(payload, tuple) else (payload, BUF))
    fields.update(over)
    return Register(**fields)


def req(unique, payload=True, qid=0, background=False) -> Request:
    return Request(qid=qid, unique=unique, payload=payload, background=background)


def bg(unique, payload=True, qid=0) -> Request:
    return Request(qid=qid, unique=unique, payload=payload, background=True)


def commit(unique, qid=0, reply_error=0) -> Commit:
    return Commit(qid=qid, commit_id=unique, reply_error=reply_error)


def run(actions, cfg: Config = Config(), variant=V2, state: State = INITIAL_STATE):
    """Run ``actions`` from ``state``; the final state and every observation."""
    observations = []
    for action in actions:
        state, obs = next_state(variant, cfg, state, action)
        observations.append(obs)
    return state, observations


def run_json(actions, cfg: Config = Config(), variant=V2, state: State = INITIAL_STATE):
    """As :func:`run`, with each observation as its TRACE-FORMAT JSON object."""
    state, observations = run(actions, cfg, variant, state)
    return state, [o.to_json() for o in observations]


def last(actions, cfg: Config = Config(), variant=V2, state: State = INITIAL_STATE) -> dict:
    """The JSON observation of the last action."""
    return run_json(actions, cfg, variant, state)[1][-1]


def queue(state: State, qid: int = 0):
    q = get_queue(state, qid)
    assert q is not None, f"queue {qid} does not exist"
    return q


def buf_addr(buf_id, payload=PAYLOAD, buf_size=BUF) -> int:
    return payload + buf_id * buf_size


def hdr_addr(ent_id, headers=HEADERS) -> int:
    return headers + HDR * ent_id


def d(ent, unique, buf_id, payload_addr=None, header_addr=None, ent_id=None) -> dict:
    """A bufring ``dispatched`` object: defaults to buffer ``buf_id`` of the pool at
    PAYLOAD and the header slot of ``ent_id`` (default: the ordinal ``ent``)."""
    return {"ent": ent, "unique": unique, "buf_id": buf_id,
            "payload_addr": buf_addr(buf_id) if payload_addr is None else payload_addr,
            "header_addr": hdr_addr(ent if ent_id is None else ent_id)
            if header_addr is None else header_addr}


def reg_ok(ent, dispatched=(), recycled=(), warnings=()) -> dict:
    return {"ret": 0, "ent": ent, "dispatched": list(dispatched), "recycled": list(recycled),
            "warnings": list(warnings)}


def reg_err(ret) -> dict:
    return {"ret": ret, "dispatched": [], "recycled": [], "warnings": []}


def arrived(dispatched=(), queued=False, recycled=(), warnings=(), via="ring") -> dict:
    return {"via": via, "queued": queued, "dispatched": list(dispatched),
            "recycled": list(recycled), "warnings": list(warnings)}


def committed(ret=0, dispatched=(), recycled=(), warnings=()) -> dict:
    return {"ret": ret, "dispatched": list(dispatched), "recycled": list(recycled),
            "warnings": list(warnings)}


"""Scopes: named bounded configurations the explorer searches exhaustively.

A scope is a configuration (``model.config.Config``) plus an environment
(``model.system.Environment``: which REGISTER SQEs, how many requests, which
kinds, which finer interleavings) plus the server's fairness for liveness (``specs.fairness``).

The default scopes are what a careful reviewer of the patch would try, boundary
values included: a payload pool at address 0, a buffer count that does not divide
the counter range, fewer buffers than entries, a duplicate ``buf_index``, a
``buf_index`` equal to ``queue_depth``, regions exactly as large as the checks
allow, a second REGISTER with other init fields, unknown flag bits, both modes on
one queue, two REGISTERs racing, the background limits (at 1 and above), deferred
task work.
Counters are 3 bits wide so that they wrap within a few steps (the kernel's are
32 bits; ``bufring prove`` covers that width, and ``counter_start`` takes a
32-bit trace to the wrap).

Users write their own scopes as JSON Lines files (docs/scopes.md): a header
object ``{"scope": 1, ...}`` then one ``{"register": {...}}`` per REGISTER SQE.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bufring.model.actions import Register
from bufring.model.config import Config
from bufring.model.errors import BadInput
from bufring.model.system import Environment
from bufring.model.traces import is_int, parse_action, parse_config, parse_json_line
from bufring.model.uapi import FUSE_MIN_READ_BUFFER, FUSE_URING_BUFRING, REQ_HEADER_SZ
from bufring.specs.fairness import FAIRNESS

@dataclass(frozen=True)
class Scope:
    name: str
    doc: str
    config: Config
    env: Environment
    fairness: str = "answers_all"  # a name of specs.fairness.FAIRNESS
    max_states: int = 2_000_000
    source: str = "built-in"      # the scope file it came from
    line: int | None = None       # the line of its header in that file

    def bounds(self) -> dict:
        """The scope's bounds, for a verdict's coverage."""
        env = self.env
        return {"nr_queues": self.config.nr_queues, "counter_bits": self.config.counter_bits,
                "counter_start": self.config.counter_start,
                "max_background": self.config.max_background,
                "fetch_on_register": self.config.fetch_on_register,
                "deferred_send": self.config.deferred_send,
                "registers": len(env.registers), "max_ents": env.max_ents,
                "max_live": env.max_live, "background": env.background, "race": env.race,
                "split_commit": env.split_commit, "fairness": self.fairness}


# --- the default scopes --------------------------------------------------------------------------

BS = FUSE_MIN_READ_BUFFER        # buf_size = max_payload_sz: the smallest accepted
H = 0x10000                      # headers region
P = 0x100000                     # payload pool


def bufring(qid: int = 0, buf_index: int = 0, queue_depth: int = 2, nbufs: int = 1,
            payload: int = P, headers: int = H, flags: int = FUSE_URING_BUFRING,
            headers_len: int | None = None) -> Register:
    """A bufring REGISTER whose regions are exactly as large as the checks require."""
    hlen = REQ_HEADER_SZ * queue_depth if headers_len is None else headers_len
    return Register(qid=qid, flags=flags, buf_index=buf_index, queue_depth=queue_depth,
                    buf_size=BS, headers=(headers, hlen), payload=(payload, BS * nbufs))


def legacy(qid: int = 0, n: int = 0, payload: int | None = None) -> Register:
    """A legacy REGISTER with entry ``n``'s own header and payload buffers."""
    base = P + 2 * BS * n if payload is None else payload
    return Register(qid=qid, flags=0, headers=(H + REQ_HEADER_SZ * n, REQ_HEADER_SZ),
                    payload=(base, BS))


def _cfg(**kw) -> Config:
    return Config(max_payload_sz=BS, counter_bits=kw.pop("counter_bits", 3), **kw)


DEFAULT_SCOPES: tuple[Scope, ...] = (
    Scope("ring", "3 buffers (not a power of two) for 2 entries, 3-bit counters: select, "
          "recycle and keep-buffer across the wrap",
          _cfg(), Environment(registers=(bufring(nbufs=3), bufring(buf_index=1, nbufs=3)),
                              max_ents=2, max_live=2)),
    Scope("ring-pow2", "as 'ring' with 2 and 4 buffers (powers of two)",
          _cfg(), Environment(registers=(bufring(nbufs=2), bufring(buf_index=1, nbufs=2),
                                         bufring(queue_depth=2, nbufs=4)),
                              max_ents=2, max_live=2)),
    Scope("enobufs", "1 buffer for 2 entries: requests wait for buffers (-ENOBUFS)",
          _cfg(), Environment(registers=(bufring(), bufring(buf_index=1)), max_ents=2, max_live=3)),
    Scope("null-payload", "the payload pool at address 0 (accepted: SEMANTICS §10), 1 and 2 buffers",
          _cfg(), Environment(registers=(bufring(payload=0), bufring(buf_index=1, payload=0),
                                         bufring(payload=0, nbufs=2)),
                              max_ents=2, max_live=2)),
    Scope("register", "REGISTER boundaries: duplicate buf_index, buf_index == queue_depth, "
          "other init fields, unknown flags, the other mode, exact region sizes",
          _cfg(), Environment(registers=(
              bufring(),                                        # the usual first one
              bufring(buf_index=2),                             # buf_index == queue_depth
              bufring(buf_index=0),                             # duplicate of the first
              bufring(buf_index=1, queue_depth=3, nbufs=2, headers=2 * H, payload=2 * P),
              bufring(flags=FUSE_URING_BUFRING | 2),            # an unknown flag bit
              bufring(headers_len=REQ_HEADER_SZ * 2 - 1),       # headers one byte short
              legacy(),                                         # the other mode
          ), max_ents=2, max_live=1)),
    Scope("legacy", "legacy (iovec) entries, as before the patch",
          _cfg(), Environment(registers=(legacy(n=0), legacy(n=1)), max_ents=2, max_live=3)),
    Scope("race", "two REGISTERs racing to create one queue, both modes",
          _cfg(), Environment(registers=(bufring(), legacy(), bufring(buf_index=1)),
                              max_ents=2, max_live=1, race=True)),
    Scope("background", "2 queues, max_background 1, background and foreground requests",
          _cfg(nr_queues=2, max_background=1),
          Environment(registers=(bufring(qid=0), bufring(qid=1)), max_ents=1, max_live=2,
                      background=True)),
    Scope("background-limit", "1 queue, max_background 2, 2 entries, up to 3 background and "
          "foreground requests without payload: the limit accounting of fuse_uring_req_end() and "
          "fuse_request_end() with several bg requests active; fetch_on_register, so that a "
          "REGISTER's not looking at queued requests (shown in other scopes) does not hide it; "
          "the server may leave some requests unanswered",
          _cfg(max_background=2, fetch_on_register=True),
          Environment(registers=(bufring(nbufs=2), bufring(buf_index=1, nbufs=2)), max_ents=2,
                      max_live=3, payloads=(False,), background=True),
          fairness="some_unanswered"),
    Scope("interleave", "deferred task work and split commits: arrivals meet unlocked parts",
          _cfg(deferred_send=True),
          Environment(registers=(bufring(), bufring(buf_index=1)), max_ents=2, max_live=2,
                      split_commit=True)),
    Scope("fetch-on-register", "as 'enobufs' with fetch_on_register (newer trees)",
          _cfg(fetch_on_register=True),
          Environment(registers=(bufring(), bufring(buf_index=1)), max_ents=2, max_live=3)),
)

BY_NAME = {s.name: s for s in DEFAULT_SCOPES}


# --- users' scope files ----------------------------------------------------------------------------

HEADER_KEYS = {"scope", "name", "doc", "config", "max_ents", "max_live", "payloads",
               "background", "race", "threads", "split_commit", "fairness", "max_states"}


def load_scope(spec: str) -> Scope:
    """A default scope by name, or a scope file (docs/scopes.md)."""
    if spec in BY_NAME:
        return BY_NAME[spec]
    path = Path(spec)
    if not path.is_file():
        raise BadInput(spec, None, "scope", f"no such scope or file; scopes: {', '.join(BY_NAME)}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise BadInput(spec, None, None, f"cannot read: {e}") from None
    header = None
    header_line = None
    registers: list[Register] = []
    for n, text in enumerate(lines, start=1):
        if not text.strip() or text.strip().startswith("#"):
            continue
        obj = parse_json_line(text.strip(), spec, n)
        if header is None:
            header, header_line = _scope_header(obj, spec, n), n
            continue
        if set(obj) != {"register"} or not isinstance(obj["register"], dict):
            raise BadInput(spec, n, next(iter(obj), "register"),
                           'each line after the header must be {"register": {...}}')
        registers.append(parse_action("register", obj["register"], spec, n, prefix="register."))
    if header is None:
        raise BadInput(spec, None, "scope", "empty scope file (needs a header line)")
    if not registers:
        raise BadInput(spec, None, "register", "a scope needs at least one register line")
    name, doc, cfg, env_args, fairness, max_states = header
    return Scope(name, doc, cfg, Environment(registers=tuple(registers), **env_args),
                 fairness=fairness, max_states=max_states, source=spec, line=header_line)


def _scope_header(obj: dict, source: str, line: int):
    for key in obj:
        if key not in HEADER_KEYS:
            raise BadInput(source, line, key, f"unknown scope key; known: {', '.join(sorted(HEADER_KEYS))}")
    if obj.get("scope") != 1 or isinstance(obj.get("scope"), bool):
        raise BadInput(source, line, "scope", 'the first object must be the header {"scope": 1, ...}')
    name = obj.get("name", Path(source).stem)
    doc = obj.get("doc", "")
    for key, value in (("name", name), ("doc", doc)):
        if not isinstance(value, str):
            raise BadInput(source, line, key, "must be a string")
    # Keys a scope file leaves out take the default scopes' values (3-bit counters,
    # the smallest max_payload_sz), not the trace format's: a scope must stay finite.
    cfg = parse_config({"counter_bits": 3, "max_payload_sz": BS, **obj.get("config", {})}, source, line)
    env_args = {}
    for key, low, default in (("max_ents", 1, 2), ("max_live", 0, 2), ("threads", 1, 2)):
        value = obj.get(key, default)
        if not is_int(value) or not low <= value <= 64:
            raise BadInput(source, line, key, f"must be an integer from {low} to 64")
        env_args[key] = value
    for key in ("background", "race", "split_commit"):
        value = obj.get(key, False)
        if not isinstance(value, bool):
            raise BadInput(source, line, key, "must be true or false")
        env_args[key] = value
    payloads = obj.get("payloads", [True, False])
    if not (isinstance(payloads, list) and payloads and all(isinstance(x, bool) for x in payloads)):
        raise BadInput(source, line, "payloads", "must be a non-empty list of true/false")
    env_args["payloads"] = tuple(payloads)
    fairness = obj.get("fairness", "answers_all")
    if not isinstance(fairness, str) or fairness not in FAIRNESS:
        raise BadInput(source, line, "fairness", f"must be one of {', '.join(FAIRNESS)}")
    max_states = obj.get("max_states", 2_000_000)
    if not is_int(max_states) or max_states < 1:
        raise BadInput(source, line, "max_states", "must be a positive integer")
    return name, doc, cfg, env_args, fairness, max_states

"""The situation classes a conformance run must cover, and what each run covered.

An implementation can only be caught where the runs go. The classes name the
corners of the trace format (TRACE-FORMAT.md, docs/trace-format.md) and of the
behaviour the catalog speaks of:

* every ``counter_bits`` (1 to 32), ``max_background`` 0, ``fetch_on_register``, two queues;
* regions at address 0 and ending at the top of user space (``TASK_SIZE_MAX``),
  in buffer-ring and legacy mode, and a payload handed out at address 0;
* rings of 1 buffer, of a size that is not a power of two, filling the counter
  space, of ``U16_MAX`` buffers, and rings whose tail wraps at setup;
* the background limits saturated (a request held back) and released;
* uniques above u32 and near the top of u64, a request for a qid beyond ``nr_queues``;
  each error of COMMIT_AND_FETCH;
* every REGISTER error class of the generator (``gen.INVALID_CLASSES``, each
  rejected, and two faults at once) and each errno REGISTER returns;
* each witness (``w.*``) and each property's premise (``Property.exercised``).

Each class has a :class:`~bufring.checker.fuzz.gen.Focus`, the draws that reach
it; the machine aims each run at a class not covered yet
(``checker.fuzz.machine``). :class:`Coverage` counts per class (runs for a config
class, steps otherwise) and is printed in ``--json`` coverage as ``situations``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from bufring.checker.fuzz.gen import INVALID_CLASSES, NO_FOCUS, Focus, nbufs_cap
from bufring.checker.judge import Transition, reached
from bufring.model.actions import Commit, Register, Request
from bufring.model.config import Config
from bufring.model.errno import Errno
from bufring.model.kernel import payload_buf_addr
from bufring.model.state import get_queue
from bufring.model.uapi import NBUFS_MAX, TASK_SIZE_MAX
from bufring.specs.catalog import CATALOG, Kind, Property
from bufring.specs.predicates import completed_register, created_bufring, dispatched_with_ent

U32_SPAN = 1 << 32
NEAR_U64_MAX = (1 << 64) - (1 << 21)

NOT_APPLICABLE = {
    "w.register_race": "two REGISTERs racing need the split ops register_begin/register_end, "
                       "which the implementation protocol (TRACE-FORMAT v1) does not have",
}
"""Witnesses a conformance run cannot reach, and why (listed in the coverage apart)."""


@dataclass(frozen=True)
class Situation:
    name: str
    what: str
    focus: Focus = NO_FOCUS


BG = Focus(max_background=0, background=True, nr_queues=1)
SMALL_RING = Focus(nbufs="one", payload=True)


def _format_classes() -> list[Situation]:
    out = [Situation(f"config.counter_bits={b}", f"a run with {b}-bit head/tail counters",
                     Focus(counter_bits=b)) for b in range(1, 33)]
    out += [
        Situation("config.max_background=0", "max_background 0", Focus(max_background=0)),
        Situation("config.fetch_on_register", "fetch_on_register on", Focus(fetch_on_register=True)),
        Situation("config.nr_queues=2", "two queues", Focus(nr_queues=2)),
        Situation("region.payload_base_0", "a buffer ring whose payload region starts at address 0",
                  Focus(region="payload_zero")),
        Situation("region.headers_base_0", "a buffer ring whose headers region starts at address 0",
                  Focus(region="headers_zero")),
        Situation("region.payload_at_top", "a buffer ring whose payload region ends at TASK_SIZE_MAX",
                  Focus(region="payload_top")),
        Situation("region.headers_at_top", "a buffer ring whose headers region ends at TASK_SIZE_MAX",
                  Focus(region="headers_top")),
        Situation("region.legacy_payload_base_0", "a legacy entry whose payload iovec is at address 0",
                  Focus(region="legacy_payload_zero")),
        Situation("region.legacy_headers_base_0", "a legacy entry whose header iovec is at address 0",
                  Focus(region="legacy_headers_zero")),
        Situation("region.legacy_at_top", "a legacy entry whose payload iovec ends at TASK_SIZE_MAX",
                  Focus(region="legacy_top")),
        Situation("dispatch.payload_addr_0", "a payload request handed out with payload_addr 0",
                  Focus(region="payload_zero", nbufs="one", payload=True)),
        Situation("commit.null_buffer_held", "a commit by an entry holding the buffer at address 0 "
                  "(the kernel's payload_buf.addr != 0 test does not see it)",
                  Focus(region="payload_zero", nbufs="one", payload=True)),
        Situation("ring.nbufs=1", "a buffer ring of one buffer", Focus(nbufs="one")),
        Situation("ring.nbufs_not_pow2", "a buffer ring whose size is not a power of two"),
        Situation("ring.all_room", "a buffer ring as large as the counter rule allows",
                  Focus(nbufs="all_room", counter_bits=4)),
        Situation("ring.nbufs=65535", "a buffer ring of U16_MAX buffers",
                  Focus(nbufs="u16_max", counter_bits=32, start="zero", max_payload_sz=8192)),
        Situation("ring.tail_wraps_at_setup", "a ring whose tail wraps when it is set up",
                  Focus(start="wrap_at_setup", counter_bits=3)),
        Situation("bg.limit_saturated", "a background request held back by the background limits",
                  BG),
        Situation("bg.limit_released", "a held-back background request let go by a commit", BG),
        Situation("request.unique_above_u32", "a request whose unique does not fit u32",
                  Focus(unique_base=1)),
        Situation("request.unique_near_u64_max", "a request whose unique is near U64_MAX",
                  Focus(unique_base=2)),
        Situation("request.qid_beyond", "a request for a qid beyond nr_queues (served by queue 0)"),
        Situation("commit.ret=-ENOENT", "a commit of an id no entry holds"),
        Situation("commit.ret=-EINVAL", "a commit for a qid beyond nr_queues"),
        Situation("commit.ret=-ENOTCONN", "a commit before the ring or its queue exists"),
        Situation("commit.reply_error", "an accepted commit with a non-zero reply_error"),
    ]
    for kind in INVALID_CLASSES:
        focus = Focus(invalid=kind, max_payload_sz=8192 if kind == "nbufs_many" else None)
        what = ("a REGISTER whose iov[0] takes nearly all of MAX_RW_COUNT (iov[1] capped)"
                if kind == "rw_cap" else f"a REGISTER rejected for {kind}")
        out.append(Situation(f"register.{kind}", what, focus))
    out += [
        Situation("register.combo", "a REGISTER with two faults at once, rejected", Focus(invalid="combo")),
        Situation("register.ret=-EINVAL", "a REGISTER answered -EINVAL", Focus(invalid="zero_depth")),
        Situation("register.ret=-EFAULT", "a REGISTER answered -EFAULT", Focus(invalid="payload_fault")),
    ]
    return out


WITNESS_FOCUS = {
    "w.select_enobufs": SMALL_RING, "w.ring_empty": SMALL_RING,
    "w.counter_wrap": Focus(start="near_wrap", counter_bits=3, payload=True),
    "w.buffer_reused": Focus(payload=True),
}


def situations(properties: Sequence[Property] = CATALOG) -> tuple[Situation, ...]:
    """Every class: the format's, each catalog witness a conformance run can reach,
    and the premise of each of ``properties`` that has one."""
    out = _format_classes()
    out += [Situation(w.id, w.meaning, WITNESS_FOCUS.get(w.id, NO_FOCUS)) for w in CATALOG
            if w.kind is Kind.SOMETIMES and w.id not in NOT_APPLICABLE]
    out += [Situation(f"premise.{p.id}", f"what {p.id} speaks of occurs", _premise_focus(p))
            for p in properties if p.exercised is not None]
    return tuple(out)


def _premise_focus(prop: Property) -> Focus:
    """Unknown flags must be sent for the one premise that speaks of them."""
    return Focus(invalid="unknown_flags") if prop.id == "reg.unknown_flags_rejected" else NO_FOCUS


class Coverage:
    """How often each situation class occurred in a run of the conformance driver."""

    def __init__(self, properties: Sequence[Property] = CATALOG):
        self.classes = situations(properties)
        self.names = [s.name for s in self.classes]
        self.counts = dict.fromkeys(self.names, 0)
        self._focus = {s.name: s.focus for s in self.classes}
        self._witnesses = [w for w in CATALOG if w.kind is Kind.SOMETIMES and w.id in self.counts]
        self._premises = [p for p in properties if p.exercised is not None]

    def focus(self, name: str) -> Focus:
        return self._focus[name]

    def count(self, name: str) -> int:
        return self.counts[name]

    def uncovered(self) -> list[str]:
        return [n for n in self.names if not self.counts[n]]

    def _add(self, names: Iterable[str]) -> None:
        for n in names:
            self.counts[n] += 1

    def on_config(self, cfg: Config) -> None:
        self._add(config_classes(cfg))

    def on_step(self, cfg: Config, pre, action, post, obs, register_class: str | None) -> None:
        t = Transition(pre, action, post, obs)
        self._add(step_classes(cfg, t, register_class))
        self._add(w.id for w in self._witnesses if reached(w, cfg, t))
        self._add(f"premise.{p.id}" for p in self._premises if p.exercised(cfg, *t))

    def to_json(self) -> dict:
        return {"situations": [{"class": s.name, "what": s.what, "reached": self.counts[s.name] > 0,
                                "count": self.counts[s.name]} for s in self.classes],
                "situations_reached": sum(1 for n in self.names if self.counts[n]),
                "situations_total": len(self.names),
                "not_applicable": dict(NOT_APPLICABLE)}


def config_classes(cfg: Config) -> list[str]:
    out = [f"config.counter_bits={cfg.counter_bits}"]
    if cfg.max_background == 0:
        out.append("config.max_background=0")
    if cfg.fetch_on_register:
        out.append("config.fetch_on_register")
    if cfg.nr_queues == 2:
        out.append("config.nr_queues=2")
    return out


def step_classes(cfg: Config, t: Transition, register_class: str | None) -> list[str]:
    """The format and flow classes one step shows."""
    pre, action, post, obs = t
    kind = type(action)
    out = _register_classes(cfg, t, register_class) if kind is Register else []
    if kind is Request:
        if action.unique >= U32_SPAN:
            out.append("request.unique_above_u32")
        if action.unique >= NEAR_U64_MAX:
            out.append("request.unique_near_u64_max")
        if obs.via == "ring" and action.qid >= cfg.nr_queues:
            out.append("request.qid_beyond")
    elif kind is Commit:
        if obs.ret in (-Errno.ENOENT, -Errno.EINVAL, -Errno.ENOTCONN):
            out.append(f"commit.ret={Errno.name_of(obs.ret)}")
        elif obs.ret == 0 and action.reply_error != 0:
            out.append("commit.reply_error")
        if obs.ret == 0 and _holds_null_buffer(pre, action):
            out.append("commit.null_buffer_held")
    if any(q.bufring is not None and e.req is not None and e.req.payload and d.payload_addr == 0
           for q, e, d in dispatched_with_ent(cfg, action, post, obs)):
        out.append("dispatch.payload_addr_0")
    if any(q.bg_queue for _, q in post.queues):   # the flush ran: what stays is held back
        out.append("bg.limit_saturated")
    if kind is Commit and any(q.bg_queue for _, q in pre.queues):
        after = {r.unique for _, q in post.queues for r in q.bg_queue}
        if any(r.unique not in after for _, q in pre.queues for r in q.bg_queue):
            out.append("bg.limit_released")
    return out


def _holds_null_buffer(pre, commit) -> bool:
    """Does the entry answering ``commit`` hold a buffer whose address is 0?"""
    q = get_queue(pre, commit.qid)
    return q is not None and q.bufring is not None and any(
        e.req is not None and e.req.unique == commit.commit_id and e.buf is not None
        and payload_buf_addr(q, e) == 0 for e in q.ents)


def _register_classes(cfg: Config, t: Transition, register_class: str | None) -> list[str]:
    pre, action, post, obs = t
    out = []
    if register_class is not None and obs.ret not in (None, 0):
        if register_class.startswith("combo:"):
            out.append("register.combo")
        elif register_class in INVALID_CLASSES:
            out.append(f"register.{register_class}")
    if register_class == "rw_cap" and obs.ret == 0:
        out.append("register.rw_cap")
    if obs.ret in (-Errno.EINVAL, -Errno.EFAULT):
        out.append(f"register.ret={Errno.name_of(obs.ret)}")
    created = created_bufring(cfg, pre, action, post, obs)
    if created is not None:
        reg, ring = created
        (hb, hl), (pb, pl) = reg.headers, reg.payload
        n = ring.nbufs
        out += [name for name, yes in (
            ("region.payload_base_0", pb == 0), ("region.headers_base_0", hb == 0),
            ("region.payload_at_top", pb + pl == TASK_SIZE_MAX),
            ("region.headers_at_top", hb + hl == TASK_SIZE_MAX),
            ("ring.nbufs=1", n == 1), ("ring.nbufs_not_pow2", n & (n - 1) != 0),
            ("ring.all_room", n == nbufs_cap(cfg)), ("ring.nbufs=65535", n == NBUFS_MAX),
            ("ring.tail_wraps_at_setup", cfg.counter_start + n == 1 << cfg.counter_bits)) if yes]
    reg = completed_register(pre, action, obs)
    if reg is not None and obs.ret == 0 and not reg.flags & 1:
        (hb, hl), (pb, pl) = reg.headers, reg.payload
        out += [name for name, yes in (
            ("region.legacy_payload_base_0", pb == 0), ("region.legacy_headers_base_0", hb == 0),
            ("region.legacy_at_top", pb + pl == TASK_SIZE_MAX or hb + hl == TASK_SIZE_MAX)) if yes]
    return out

#!/usr/bin/env python3
"""An independent implementation of TRACE-FORMAT v1, for conformance testing.

Written from docs SEMANTICS.md and TRACE-FORMAT.md only: it does NOT import
bufring, and shares no code with it. It speaks the implementation protocol of
TRACE-FORMAT.md ("Implementation protocol (conformance)") on stdin/stdout:

    python3 tests/impls/faithful.py [--bug NAME]

and it is also an in-process implementation class (docs/conformance.md):

    bufring fuzz --impl tests/impls/faithful.py:Faithful
    bufring fuzz --impl tests/impls/faithful.py:AvailFifo      # a deviant

``--bug NAME`` (or a deviant class) plants one deliberate deviation, so that the
conformance checker can be shown to catch it. ``--list-bugs`` prints them.
"""
from __future__ import annotations

import json
import sys

# --- constants (SEMANTICS §8, TRACE-FORMAT "The connection ...") ------------------------
HDR = 288                          # sizeof(struct fuse_uring_req_header)
MAX_RW = 0x7FFFF000                # MAX_RW_COUNT
USER_END = (1 << 47) - 4096        # TASK_SIZE_MAX on x86-64
U16_MAX = 0xFFFF
EINVAL, EFAULT, ENOENT, ENOTCONN, ENOBUFS = 22, 14, 2, 107, 105

BUGS = {
    "errno-order": "bufring setup checks the region sizes before import_iovec (EINVAL before EFAULT)",
    "slot-off-by-one": "accepts buf_index == queue_depth (header slot check uses > instead of >=)",
    "recycle-head": "a recycled buffer goes back at the head of the free ring (LIFO), not the tail",
    "avail-fifo": "ent_avail_queue is a FIFO (new entries at the tail), not a LIFO stack",
    "wrap": "head/tail never wrap: unbounded counters, slot = counter % nbufs",
    "no-fetch-on-register": "ignores config.fetch_on_register",
    "bg-limit": "the background flush allows max_background + 1 active requests",
    "keep-buffer": "fetch-next recycles the held buffer and selects a fresh one instead of keeping it",
    "null-payload": "an entry holding the buffer at address 0 counts as holding one (the kernel's "
                    "payload_buf.addr != 0 test does not): payload region at address 0",
    "null-headers": "refuses a buffer ring whose headers region starts at address 0 (-EFAULT)",
    "top-of-user": "access_ok off by one: a region that ends exactly at TASK_SIZE_MAX is refused (-EFAULT)",
    "bg-queue-rule": "the background flush drops the one-per-queue rule: a queue with no active "
                     "background request also waits for the global limit",
    "rw-cap": "import_iovec caps each iovec at MAX_RW_COUNT alone, not iov[1] at what iov[0] leaves",
    "unique-u32": "keeps request uniques as u32: dispatched.unique loses the high bits",
}


class Buffer:
    """One ``struct fuse_bufring_buf``: address and id (len is the ring's buf_size)."""

    __slots__ = ("addr", "bid")

    def __init__(self, addr: int, bid: int):
        self.addr = addr
        self.bid = bid


class Ring:
    """A queue's buffer ring: physical slots, free-running head/tail."""

    def __init__(self, headers, depth, nbufs, buf_size, base, start, bits, bug):
        self.headers = headers
        self.depth = depth
        self.nbufs = nbufs
        self.bits = bits
        self.bug = bug
        self.slots = [Buffer((base + i * buf_size) & ((1 << 64) - 1), i) for i in range(nbufs)]
        self.head = start
        self.tail = self.wrap(start + nbufs)

    def wrap(self, x: int) -> int:
        if self.bug == "wrap":
            return x
        return x & ((1 << self.bits) - 1)

    def free(self) -> int:
        return self.wrap(self.tail - self.head) if self.bug != "wrap" else self.tail - self.head

    def take(self):
        if self.tail == self.head:
            return None
        buf = self.slots[self.head % self.nbufs]
        self.head = self.wrap(self.head + 1)
        return Buffer(buf.addr, buf.bid)

    def put(self, buf: Buffer) -> bool:
        """Write ``buf`` back; returns True when the kernel would WARN (ring full)."""
        full = self.free() >= self.nbufs
        if self.bug == "recycle-head":
            self.head = self.wrap(self.head - 1)
            self.slots[self.head % self.nbufs] = Buffer(buf.addr, buf.bid)
        else:
            self.slots[self.tail % self.nbufs] = Buffer(buf.addr, buf.bid)
            self.tail = self.wrap(self.tail + 1)
        return full


NO_BUF = Buffer(0, 0)              # payload_buf zeroed


class Entry:
    def __init__(self, ordinal: int, slot_id: int = 0, hdr_base: int = 0, pay_base: int = 0):
        self.ordinal = ordinal
        self.slot_id = slot_id          # bufring: header slot index (buf_index)
        self.hdr_base = hdr_base        # legacy: its own iovecs
        self.pay_base = pay_base
        self.buf = NO_BUF               # payload_buf; addr 0 = none
        self.req = None                 # (unique, payload, background)
        self.where = "avail"            # avail / user


class Queue:
    def __init__(self, ring):
        self.ring = ring                # None: legacy mode
        self.entries: list[Entry] = []
        self.avail: list[Entry] = []    # index 0 = list head
        self.waiting: list[tuple] = []  # fuse_req_queue
        self.bg_waiting: list[tuple] = []
        self.bg_active = 0


class Faithful:
    """The whole connection. Methods follow the in-process class protocol."""

    bug: str | None = None

    def __init__(self, bug: str | None = None):
        if bug is not None:
            self.bug = bug
        self.reset({})

    # --- protocol ---------------------------------------------------------------------
    def reset(self, config: dict):
        self.nr_queues = config.get("nr_queues", 1)
        self.max_payload = config.get("max_payload_sz", 131072)
        self.max_bg = config.get("max_background", 12)
        self.bits = config.get("counter_bits", 32)
        self.start = config.get("counter_start", 0)
        self.fetch_on_register = config.get("fetch_on_register", False)
        self.have_ring = False
        self.ready = False
        self.queues: dict[int, Queue] = {}
        self.num_bg = 0
        self.active_bg = 0
        return {"ok": True}

    def _begin(self):
        self.out = {"dispatched": [], "recycled": [], "warnings": []}

    def _warn(self, code):
        if code not in self.out["warnings"]:
            self.out["warnings"].append(code)

    def register(self, qid, headers, payload, flags=0, buf_index=0, queue_depth=0, buf_size=0):
        self._begin()
        ret, ent = self._register(qid, flags, buf_index, queue_depth, buf_size, headers, payload)
        self.out["ret"] = ret
        if ret == 0:
            self.out["ent"] = ent
        return self.out

    def request(self, qid, unique, payload, background=False, opcode=None):
        self._begin()
        if not self.ready:
            self.out.update(via="dev", queued=False)
            return self.out
        if qid >= self.nr_queues:
            self._warn("qid_out_of_range")
            qid = 0
        q = self.queues[qid]
        req = (unique, payload, background)
        if background:
            self._arrive_bg(q, req)
        else:
            self._arrive_fg(q, req)
        self.out.update(via="ring", queued=req in q.waiting or req in q.bg_waiting)
        return self.out

    def commit(self, qid, commit_id, reply_error=0):
        self._begin()
        self.out["ret"] = self._commit(qid, commit_id, reply_error)
        return self.out

    # --- REGISTER -----------------------------------------------------------------------
    def _iovecs(self, headers, payload):
        """import_iovec: negative lengths first (all elements), then access_ok per
        element, then the MAX_RW cap. Returns (-errno, None) or (0, (hlen, plen))."""
        (hb, hl), (pb, pl) = headers, payload
        if hl >= 1 << 63 or pl >= 1 << 63:
            return -EINVAL, None
        end = USER_END - (1 if self.bug == "top-of-user" else 0)
        for base, length in ((hb, hl), (pb, pl)):
            if base + length > end:
                return -EFAULT, None
        hsz = min(hl, MAX_RW)
        psz = min(pl, MAX_RW if self.bug == "rw-cap" else MAX_RW - hsz)
        return 0, (hsz, psz)

    def _setup_ring(self, depth, buf_size, headers, payload):
        if depth == 0 or buf_size == 0:
            return -EINVAL
        if self.bug == "errno-order":
            if headers[1] < depth * HDR or buf_size < self.max_payload:
                return -EINVAL
        err, sizes = self._iovecs(headers, payload)
        if err:
            return err
        if self.bug == "null-headers" and headers[0] == 0:
            return -EFAULT
        hsz, psz = sizes
        if hsz < depth * HDR:
            return -EINVAL
        if buf_size < self.max_payload:
            return -EINVAL
        n = psz // buf_size
        if n == 0 or n > U16_MAX:
            return -EINVAL
        return Ring(headers[0], depth, n, buf_size, payload[0], self.start, self.bits, self.bug)

    def _register(self, qid, flags, buf_index, depth, buf_size, headers, payload):
        self.have_ring = True
        if qid >= self.nr_queues:
            return -EINVAL, None
        if flags & ~1:
            return -EINVAL, None
        want_ring = bool(flags & 1)
        q = self.queues.get(qid)
        if q is None:
            ring = None
            if want_ring:
                ring = self._setup_ring(depth, buf_size, headers, payload)
                if isinstance(ring, int):
                    return ring, None
            q = self.queues[qid] = Queue(ring)
        elif (q.ring is not None) != want_ring:
            return -EINVAL, None
        # fuse_uring_create_ring_ent
        if q.ring is not None:
            limit_ok = buf_index <= q.ring.depth if self.bug == "slot-off-by-one" else buf_index < q.ring.depth
            if not limit_ok:
                return -EINVAL, None
            e = Entry(len(q.entries), slot_id=buf_index)
        else:
            err, sizes = self._iovecs(headers, payload)
            if err:
                return err, None
            hsz, psz = sizes
            if hsz < HDR or psz < self.max_payload:
                return -EINVAL, None
            e = Entry(len(q.entries), hdr_base=headers[0], pay_base=payload[0])
        q.entries.append(e)
        self._make_available(q, e)
        if not self.ready and all(
                o in self.queues and self.queues[o].avail for o in range(self.nr_queues) if o != qid):
            self.ready = True
        if self.fetch_on_register and self.bug != "no-fetch-on-register":
            self._fetch_next(q, e)
        return 0, e.ordinal

    # --- lists --------------------------------------------------------------------------
    def _make_available(self, q, e):
        if e in q.avail:
            q.avail.remove(e)
        if self.bug == "avail-fifo":
            q.avail.append(e)
        else:
            q.avail.insert(0, e)
        e.where = "avail"

    def _give(self, q, e, req):
        """add_req_to_ring_ent + the trip to user space, recorded as a dispatch."""
        if e in q.avail:
            q.avail.remove(e)
        if req in q.waiting:
            q.waiting.remove(req)
        e.req = req
        e.where = "user"
        if q.ring is not None:
            bid, addr, hdr = e.buf.bid & U16_MAX, e.buf.addr, q.ring.headers + HDR * e.slot_id
        else:
            bid, addr, hdr = None, e.pay_base, e.hdr_base
        if req[1] and addr == 0:
            self._warn("payload_copy_null")
        unique = req[0] & 0xFFFFFFFF if self.bug == "unique-u32" else req[0]
        self.out["dispatched"].append({"ent": e.ordinal, "unique": unique, "buf_id": bid,
                                       "payload_addr": addr, "header_addr": hdr & ((1 << 64) - 1)})

    # --- buffers --------------------------------------------------------------------------
    def _select(self, q, e):
        buf = q.ring.take()
        if buf is None:
            return -ENOBUFS
        e.buf = buf
        return 0

    def _holds(self, e) -> bool:
        """The kernel's test for a held buffer: ``ent->payload_buf.addr != 0``."""
        if self.bug == "null-payload":
            return e.buf is not NO_BUF
        return e.buf.addr != 0

    def _recycle(self, q, e):
        if q.ring is None or not self._holds(e):
            return
        if q.ring.put(e.buf):
            self._warn("recycle_full")
        self.out["recycled"].append(e.buf.bid)
        e.buf = NO_BUF

    def _prep(self, q, e, req):
        """fuse_uring_prep_buffer (arrival): select for payload, whatever e holds."""
        if q.ring is None or not req[1]:
            return 0
        return self._select(q, e)

    def _update(self, q, e, req):
        """fuse_uring_next_req_update_buffer (fetch-next)."""
        if q.ring is None:
            return 0
        holding = self._holds(e)
        if self.bug == "keep-buffer" and holding and req[1]:
            self._recycle(q, e)
            holding = False
        if req[1] and not holding:
            return self._select(q, e)
        if not req[1] and holding:
            self._recycle(q, e)
        return 0

    def _fetch_next(self, q, e):
        """fuse_uring_get_next_fuse_req: available, then try the head request."""
        self._make_available(q, e)
        if q.waiting:
            req = q.waiting[0]
            if self._update(q, e, req) == 0:
                self._give(q, e, req)
                return
        self._recycle(q, e)

    # --- arrival --------------------------------------------------------------------------
    def _arrive_fg(self, q, req):
        if q.avail:
            e = q.avail[0]
            if self._prep(q, e, req) == 0:
                self._give(q, e, req)
                return
        q.waiting.append(req)

    def _flush_bg(self, q):
        limit = self.max_bg + (1 if self.bug == "bg-limit" else 0)
        one_per_queue = self.bug != "bg-queue-rule"
        while q.bg_waiting and (self.active_bg < limit or (one_per_queue and q.bg_active == 0)):
            req = q.bg_waiting.pop(0)
            self.active_bg += 1
            q.bg_active += 1
            q.waiting.append(req)

    def _arrive_bg(self, q, req):
        q.bg_waiting.append(req)
        e = q.avail[0] if q.avail else None
        self.num_bg += 1
        self._flush_bg(q)
        if e is not None and q.waiting:
            head = q.waiting[0]
            if self._prep(q, e, head) == 0:
                self._give(q, e, head)

    # --- COMMIT_AND_FETCH -----------------------------------------------------------------
    def _commit(self, qid, commit_id, reply_error):
        if not self.have_ring:
            return -ENOTCONN
        if qid >= self.nr_queues:
            return -EINVAL
        q = self.queues.get(qid)
        if q is None:
            return -ENOTCONN
        owner = next((e for e in q.entries if e.req is not None and e.req[0] == commit_id), None)
        if owner is None:
            return -ENOENT
        req = owner.req
        owner.req = None
        if req[2]:                        # fuse_uring_req_end, then fuse_request_end
            q.bg_active -= 1
            self._flush_bg(q)
            self.num_bg -= 1
            self.active_bg -= 1
        self._fetch_next(q, owner)
        return 0


class ErrnoOrder(Faithful):
    bug = "errno-order"


class SlotOffByOne(Faithful):
    bug = "slot-off-by-one"


class RecycleHead(Faithful):
    bug = "recycle-head"


class AvailFifo(Faithful):
    bug = "avail-fifo"


class NoWrap(Faithful):
    bug = "wrap"


class NoFetchOnRegister(Faithful):
    bug = "no-fetch-on-register"


class BgLimit(Faithful):
    bug = "bg-limit"


class KeepBuffer(Faithful):
    bug = "keep-buffer"


class NullPayload(Faithful):
    bug = "null-payload"


class NullHeaders(Faithful):
    bug = "null-headers"


class TopOfUser(Faithful):
    bug = "top-of-user"


class BgQueueRule(Faithful):
    bug = "bg-queue-rule"


class RwCap(Faithful):
    bug = "rw-cap"


class UniqueU32(Faithful):
    bug = "unique-u32"


def serve(impl: Faithful, stdin=sys.stdin, stdout=sys.stdout) -> int:
    """The subprocess protocol: one answer line per input line."""
    ops = {"register": impl.register, "request": impl.request, "commit": impl.commit}
    for line in stdin:
        line = line.strip()
        if not line:
            continue
        obj = json.loads(line)
        if "trace" in obj:
            answer = impl.reset(obj.get("config", {}))
        else:
            op = obj.pop("op")
            if op == "register":
                obj["headers"], obj["payload"] = tuple(obj["headers"]), tuple(obj["payload"])
            answer = ops[op](**obj)
        stdout.write(json.dumps(answer) + "\n")
        stdout.flush()
    return 0


def main(argv: list[str]) -> int:
    bug = None
    if "--list-bugs" in argv:
        for name, text in BUGS.items():
            print(f"{name}: {text}")
        return 0
    if "--bug" in argv:
        bug = argv[argv.index("--bug") + 1]
        if bug not in BUGS:
            print(f"faithful.py: unknown bug {bug!r}; known: {', '.join(BUGS)}", file=sys.stderr)
            return 2
    return serve(Faithful(bug))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

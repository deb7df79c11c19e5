"""The layout calculator: what the first REGISTER of a queue makes of its parameters.

For a FUSE server author choosing ``queue_depth``, ``buf_size`` and the two iovec
regions: does the kernel accept them, and if so where is every buffer and every
header slot, which bytes go unused, and what will bite later. It models the
REGISTER that creates queue 0 of a one-queue ring (SEMANTICS §3.2 to §3.4) by
running the variant's rule lists in the order ``fuse_uring_register()`` does
(:func:`register_rules`), then the populate loop of
``fuse_uring_bufring_setup()`` (§1.4, §8.2 item 7) and the header-slot
arithmetic of ``copy_header_to_ring()`` (§8.2 item 10). docs/layout.md explains
the output and every warning code.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from bufring.model.cint import CONCRETE, U16, U32, U64, mask
from bufring.model.errno import Errno
from bufring.model.errors import BadInput
from bufring.model.ring import buffer_addr
from bufring.model.rules import (RegisterValues, Rule, iovec_rules,
                                 first_rejection, headers_size, nr_bufs,
                                 payload_size, wants_bufring)
from bufring.model.uapi import (DEFAULT_MAX_PAYLOAD_SZ, FUSE_MIN_READ_BUFFER,
                                FUSE_URING_BUFRING, MAX_RW_COUNT, PAGE_SIZE,
                                REQ_HEADER_ALIGN, REQ_HEADER_SZ, header_slot)
from bufring.model.variant import V2, Variant

__all__ = ["Layout", "LayoutWarning", "Mode", "Unused", "layout", "register_rules",
           "WARNING_CODES"]

# Every warning code the calculator can give, with the one line docs/layout.md
# expands. Codes are stable: tools match on them.
WARNING_CODES: dict[str, str] = {
    "payload_base_zero": "the payload region starts at address 0, which the patch reads as 'no buffer'",
    "headers_base_zero": "the headers region starts at address 0",
    "headers_len_capped": "import_iovec capped iov[0]'s length at MAX_RW_COUNT",
    "payload_len_capped": "import_iovec capped iov[1]'s length to what MAX_RW_COUNT leaves after iov[0]",
    "buf_size_above_max_payload": "each buffer is longer than the max_payload_sz bytes the kernel uses",
    "nbufs_not_power_of_two": "nbufs does not divide 2^32, so counter % nbufs jumps when head/tail wrap",
    "nbufs_below_queue_depth": "fewer buffers than entries: payload requests may wait for a buffer",
    "headers_overlap_payload": "header slots and payload bytes the kernel writes share addresses",
    "headers_unaligned": "the header slots are not 8-byte aligned",
    "payload_not_page_aligned": "a payload buffer does not start on a page boundary",
    "max_payload_sz_below_minimum": "max_payload_sz is below FUSE_MIN_READ_BUFFER, which the kernel never computes",
}


class Mode(Enum):
    """The queue's mode, from the FUSE_URING_BUFRING bit of the flags."""

    BUFRING = "bufring"
    LEGACY = "legacy"


@dataclass(frozen=True)
class LayoutWarning:
    """Something a server author should know: a stable ``code`` and one line."""

    code: str
    message: str


@dataclass(frozen=True)
class Unused:
    """Registered bytes the kernel never uses, by cause (an accepted layout).

    ``headers_trailing``: imported headers bytes after the last slot (bufring:
    beyond ``queue_depth * 288``; legacy: beyond 288). ``payload_trailing``:
    imported payload bytes after the last buffer (bufring: beyond
    ``nbufs * buf_size``; legacy: beyond the ``max_payload_sz`` bytes every import
    reads). ``headers_capped`` / ``payload_capped``: bytes import_iovec cut off
    to keep the total within MAX_RW_COUNT. ``buffer_tails``: bufring only, the
    bytes of every buffer after its first ``max_payload_sz``, summed.
    """

    headers_trailing: int
    headers_capped: int
    payload_trailing: int
    payload_capped: int
    buffer_tails: int

    @property
    def total(self) -> int:
        return (self.headers_trailing + self.headers_capped + self.payload_trailing
                + self.payload_capped + self.buffer_tails)

    def to_json(self) -> dict:
        return {"headers_trailing": self.headers_trailing, "headers_capped": self.headers_capped,
                "payload_trailing": self.payload_trailing, "payload_capped": self.payload_capped,
                "buffer_tails": self.buffer_tails, "total": self.total}


@dataclass(frozen=True)
class Layout:
    """What one REGISTER makes of its parameters.

    ``ret`` is 0 or ``-errno``; ``rule`` the rule that rejected it (None when
    accepted); ``checked`` the rules that ran, in order, up to and including the
    rejecting one. ``queue_created``: the REGISTER leaves queue 0 behind, with
    this layout fixed for every later REGISTER of the queue (SEMANTICS §3.3): true
    when accepted, and also when only the entry checks reject it, since
    ``fuse_uring_create_queue()`` published the queue before
    ``fuse_uring_create_ring_ent()`` ran. ``nbufs``, ``buffers`` (``[start, end)`` by buffer id) and
    ``header_slots`` (address by entry id) describe an accepted bufring layout;
    they are None and empty otherwise. ``headers_size`` and ``payload_size`` are
    the lengths after import_iovec's cap, None when the iovecs do not import.
    """

    variant: str
    mode: Mode
    values: RegisterValues
    ret: int
    rule: Rule | None
    checked: tuple[Rule, ...]
    queue_created: bool
    nbufs: int | None
    buffers: tuple[tuple[int, int], ...]
    header_slots: tuple[int, ...]
    headers_size: int | None
    payload_size: int | None
    unused: Unused | None
    warnings: tuple[LayoutWarning, ...]

    @property
    def accepted(self) -> bool:
        return self.ret == 0

    @property
    def errno(self) -> Errno | None:
        return None if self.rule is None else self.rule.errno

    def ent_json(self) -> dict | None:
        """Where the entry this REGISTER creates reads its header (and, legacy, payload)."""
        if not self.accepted:
            return None
        p = self.values
        if self.mode is Mode.BUFRING:
            return {"id": p.buf_index, "header_slot": self.header_slots[p.buf_index]}
        return {"header": p.headers_base,
                "payload": [p.payload_base, p.payload_base + p.max_payload_sz]}

    def to_json(self) -> dict:
        """The ``bufring layout --json`` object (docs/layout.md)."""
        p = self.values
        rule = None if self.rule is None else {
            "name": self.rule.name, "errno": self.rule.errno.name, "text": self.rule.text,
            "section": self.rule.section, "kernel": self.rule.kernel}
        return {
            "ret": self.ret,
            "accepted": self.accepted,
            "errno": None if self.errno is None else self.errno.name,
            "rule": rule,
            "checked": [r.name for r in self.checked],
            "queue_created": self.queue_created,
            "variant": self.variant,
            "mode": self.mode.value,
            "inputs": {"flags": p.flags, "queue_depth": p.queue_depth, "buf_size": p.buf_size,
                       "headers": [p.headers_base, p.headers_len],
                       "payload": [p.payload_base, p.payload_len], "buf_index": p.buf_index,
                       "qid": p.qid, "nr_queues": p.nr_queues},
            "max_payload_sz": p.max_payload_sz,
            "headers_size": self.headers_size,
            "payload_size": self.payload_size,
            "nbufs": self.nbufs,
            "buffers": [list(b) for b in self.buffers],
            "header_slots": list(self.header_slots),
            "ent": self.ent_json(),
            "unused": None if self.unused is None else self.unused.to_json(),
            "warnings": [{"code": w.code, "message": w.message} for w in self.warnings],
        }


# --- the calculator --------------------------------------------------------------

_FIELD_BITS = (("flags", U64), ("queue_depth", U16), ("buf_size", U32),
               ("buf_index", U16), ("max_payload_sz", U64))


def register_rules(variant: Variant, flags: int) -> tuple[Rule, ...]:
    """The rules the REGISTER that creates a queue meets, in the kernel's order.

    ``fuse_uring_register()``: the gate; then, with FUSE_URING_BUFRING,
    ``fuse_uring_create_queue()`` -> ``fuse_uring_bufring_setup()`` and the
    bufring check of ``fuse_uring_create_ring_ent()``; without it the queue is
    created with no checks and ``fuse_uring_create_ring_ent()`` imports the
    entry's own iovecs (model/kernel.py ``fuse_uring_register``).
    """
    if wants_bufring(CONCRETE, flags):
        return variant.gate_rules + variant.bufring_setup_rules + variant.ent_bufring_rules
    return variant.gate_rules + variant.ent_legacy_rules


def layout(*, queue_depth: int, buf_size: int, headers: tuple[int, int],
           payload: tuple[int, int], flags: int = FUSE_URING_BUFRING, buf_index: int = 0,
           max_payload_sz: int = DEFAULT_MAX_PAYLOAD_SZ, variant: Variant = V2) -> Layout:
    """The first REGISTER of queue 0 (``nr_queues`` 1) with these parameters.

    Parameters
    ----------
    queue_depth, buf_size, buf_index
        ``init.queue_depth`` (u16), ``init.buf_size`` (u32), ``sqe->buf_index`` (u16).
    headers, payload
        iov[0] and iov[1] as ``(base, len)``, each a u64.
    flags
        ``cmd_req.flags`` (u64); FUSE_URING_BUFRING by default, 0 for legacy mode.
    max_payload_sz
        ``ring->max_payload_sz`` (size_t, SEMANTICS §9); 131072 by default.
    variant
        Whose rule lists to apply (V2, the patch as posted, by default).

    Returns
    -------
    Layout
        Accepted (``ret`` 0) with buffers, header slots, unused bytes and
        warnings, or rejected with the first rule that rejects.

    Raises
    ------
    BadInput
        A value is negative or does not fit its C type (none is wrapped).

    Examples
    --------
    >>> out = layout(queue_depth=2, buf_size=131072, headers=(0x10000, 576),
    ...              payload=(0x100000, 3 * 131072))
    >>> out.ret, out.nbufs, out.header_slots[1] == 0x10000 + 288
    (0, 3, True)
    >>> [w.code for w in out.warnings]
    ['nbufs_not_power_of_two']
    """
    values = dict(flags=flags, queue_depth=queue_depth, buf_size=buf_size,
                  buf_index=buf_index, max_payload_sz=max_payload_sz)
    for name, bits in _FIELD_BITS:
        _check_fits(name, values[name], bits)
    for name, region in (("headers", headers), ("payload", payload)):
        _check_fits(f"{name} base", region[0], U64)
        _check_fits(f"{name} len", region[1], U64)
    p = RegisterValues(qid=0, flags=flags, buf_index=buf_index, queue_depth=queue_depth,
                       buf_size=buf_size, headers_base=headers[0], headers_len=headers[1],
                       payload_base=payload[0], payload_len=payload[1], nr_queues=1,
                       max_payload_sz=max_payload_sz)
    c = CONCRETE
    mode = Mode.BUFRING if wants_bufring(c, flags) else Mode.LEGACY
    rules = register_rules(variant, flags)
    rule = first_rejection(c, rules, p)
    checked = rules if rule is None else rules[:rules.index(rule) + 1]
    before_ent = len(variant.gate_rules) + (len(variant.bufring_setup_rules)
                                            if mode is Mode.BUFRING else 0)
    imports = first_rejection(c, iovec_rules(""), p) is None
    sized = imports or rule is None     # a variant may accept what import_iovec rejects
    hsize = headers_size(c, p) if sized else None
    psize = payload_size(c, p) if sized else None
    warnings = _input_warnings(p, imports)
    common = dict(variant=variant.name, mode=mode, values=p, rule=rule, checked=checked,
                  queue_created=rule is None or len(checked) > before_ent,
                  headers_size=hsize, payload_size=psize)
    if rule is not None:
        return Layout(ret=-int(rule.errno), nbufs=None, buffers=(), header_slots=(),
                      unused=None, warnings=warnings, **common)
    if mode is Mode.LEGACY:
        unused = Unused(headers_trailing=_at_least_0(hsize - REQ_HEADER_SZ),
                        headers_capped=p.headers_len - hsize,
                        payload_trailing=_at_least_0(psize - max_payload_sz),
                        payload_capped=p.payload_len - psize, buffer_tails=0)
        warnings += _legacy_warnings(p)
        return Layout(ret=0, nbufs=None, buffers=(), header_slots=(), unused=unused,
                      warnings=warnings, **common)
    n = nr_bufs(c, p)
    buffers = tuple((buffer_addr(c, p.payload_base, buf_size, i),
                     buffer_addr(c, p.payload_base, buf_size, i + 1)) for i in range(n))
    slots = tuple(header_slot(p.headers_base, k) for k in range(queue_depth))
    unused = Unused(headers_trailing=_at_least_0(hsize - REQ_HEADER_SZ * queue_depth),
                    headers_capped=p.headers_len - hsize,
                    payload_trailing=psize - n * buf_size,
                    payload_capped=p.payload_len - psize,
                    buffer_tails=n * _at_least_0(buf_size - max_payload_sz))
    warnings += _bufring_warnings(p, n)
    return Layout(ret=0, nbufs=n, buffers=buffers, header_slots=slots, unused=unused,
                  warnings=warnings, **common)


def _at_least_0(n: int) -> int:
    """Unused bytes: never negative, even under a variant that drops a size check."""
    return n if n > 0 else 0


def _check_fits(name: str, value: int, bits: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput("layout", None, name, f"{value!r} is not an integer")
    if value < 0:
        raise BadInput("layout", None, name, f"{value} is negative")
    if value > mask(bits):
        raise BadInput("layout", None, name,
                       f"{value} does not fit u{bits} (at most {mask(bits)} = {mask(bits):#x})")


# --- warnings ----------------------------------------------------------------------

def _warn(code: str, message: str) -> LayoutWarning:
    assert code in WARNING_CODES, code
    return LayoutWarning(code, message)


def _input_warnings(p: RegisterValues, imports: bool) -> tuple[LayoutWarning, ...]:
    """Warnings about the values as the kernel reads them, accepted or not."""
    c = CONCRETE
    out = []
    if p.max_payload_sz < FUSE_MIN_READ_BUFFER:
        out.append(_warn("max_payload_sz_below_minimum",
                         f"max_payload_sz {p.max_payload_sz} is below FUSE_MIN_READ_BUFFER "
                         f"({FUSE_MIN_READ_BUFFER}); the kernel computes max(8192, max_write, "
                         "max_pages * PAGE_SIZE), so no real connection has it (SEMANTICS §9)"))
    if not imports:
        return tuple(out)
    hsize, psize = headers_size(c, p), payload_size(c, p)
    if p.headers_len > hsize:
        out.append(_warn("headers_len_capped",
                         f"import_iovec capped iov[0]'s length {p.headers_len} to MAX_RW_COUNT "
                         f"({MAX_RW_COUNT}): {p.headers_len - hsize} bytes are ignored, and "
                         "nothing is left for the payload (SEMANTICS §3.3c)"))
    if p.payload_len > psize:
        out.append(_warn("payload_len_capped",
                         f"import_iovec capped iov[1]'s length {p.payload_len} to {psize}: "
                         f"MAX_RW_COUNT ({MAX_RW_COUNT}) minus the {hsize} bytes of iov[0]; "
                         f"{p.payload_len - psize} bytes are ignored (SEMANTICS §3.3c)"))
    return tuple(out)


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int] | None:
    start, end = max(a[0], b[0]), min(a[1], b[1])
    return (start, end) if start < end else None


def _header_warnings(p: RegisterValues, first: str) -> list[LayoutWarning]:
    """Warnings about the headers base, the same in both modes; ``first`` names
    the header at the base (slot 0, or the legacy entry's one header)."""
    out = []
    if p.headers_base == 0:
        out.append(_warn("headers_base_zero",
                         f"the headers region starts at address 0: no check rejects it, but "
                         f"address 0 is normally unmappable (vm.mmap_min_addr), so every header "
                         f"copy to or from {first} faults (-EFAULT) and ends its request"))
    if p.headers_base % REQ_HEADER_ALIGN:
        out.append(_warn("headers_unaligned",
                         f"headers base {p.headers_base:#x} is not {REQ_HEADER_ALIGN}-byte aligned: "
                         f"struct fuse_uring_req_header has alignment {REQ_HEADER_ALIGN} (u64 "
                         f"fields such as commit_id), and {REQ_HEADER_SZ} is a multiple of it, so "
                         f"every slot is misaligned and a server reading one through a struct "
                         f"pointer has undefined behaviour in C"))
    return out


def _bufring_warnings(p: RegisterValues, n: int) -> tuple[LayoutWarning, ...]:
    """Warnings about an accepted bufring layout."""
    out = []
    if p.payload_base == 0:
        out.append(_warn("payload_base_zero",
                         "buffer 0 has address 0, which the patch treats as 'no buffer' "
                         "(SEMANTICS §10): the request given buffer 0 gets no payload import, "
                         "and the entry never recycles buffer 0 (it selects a new one over it), "
                         "so buffer 0 leaks from the ring on its first use"))
    out += _header_warnings(p, "slot 0 (entry id 0)")
    if p.buf_size > p.max_payload_sz:
        tail = p.buf_size - p.max_payload_sz
        out.append(_warn("buf_size_above_max_payload",
                         f"buf_size {p.buf_size} > max_payload_sz {p.max_payload_sz}: the kernel "
                         f"imports only max_payload_sz bytes of each buffer (SEMANTICS §9), so the "
                         f"last {tail} bytes of each ({n * tail} in all) are never used"))
    if n & (n - 1):
        out.append(_warn("nbufs_not_power_of_two",
                         f"nbufs {n} does not divide 2^32 (2^32 % {n} = {(1 << 32) % n}): when the "
                         "32-bit head/tail wrap, counter % nbufs jumps back to slot 0, so a "
                         "recycle can overwrite a slot that still holds a free buffer (one "
                         "buffer lost, another handed out twice); use a power of two "
                         "(checker/examples/11-wrap-nonpow2-32bit.jsonl)"))
    if n < p.queue_depth:
        out.append(_warn("nbufs_below_queue_depth",
                         f"nbufs {n} < queue_depth {p.queue_depth}: at most {n} requests with "
                         "payload are in user space at once; another one finds the ring empty "
                         "(-ENOBUFS inside the kernel) and waits in fuse_req_queue until a "
                         "commit recycles a buffer, even while entries sit idle"))
    slots = (p.headers_base, header_slot(p.headers_base, p.queue_depth))
    pool = (p.payload_base, buffer_addr(CONCRETE, p.payload_base, p.buf_size, n))
    both = _overlap(slots, pool)
    if both is not None:
        first_slot = (both[0] - slots[0]) // REQ_HEADER_SZ
        last_slot = (both[1] - 1 - slots[0]) // REQ_HEADER_SZ
        first_buf = (both[0] - pool[0]) // p.buf_size
        last_buf = (both[1] - 1 - pool[0]) // p.buf_size
        out.append(_warn("headers_overlap_payload",
                         f"header slots {first_slot}..{last_slot} and buffers {first_buf}..{last_buf} "
                         f"share [{both[0]:#x}, {both[1]:#x}): a header copy overwrites payload "
                         "in flight, and a payload copy overwrites a header"))
    misaligned = next((i for i in range(n)
                       if buffer_addr(CONCRETE, p.payload_base, p.buf_size, i) % PAGE_SIZE), None)
    if misaligned is not None:
        out.append(_warn("payload_not_page_aligned",
                         f"buffer {misaligned} starts at "
                         f"{buffer_addr(CONCRETE, p.payload_base, p.buf_size, misaligned):#x}, "
                         f"not on a {PAGE_SIZE}-byte page (payload base and buf_size must both be "
                         "page multiples): a server doing O_DIRECT I/O straight into a buffer "
                         "needs block alignment, and an unaligned buffer spans one more page "
                         "for the kernel to fault in on every copy"))
    return tuple(out)


def _legacy_warnings(p: RegisterValues) -> tuple[LayoutWarning, ...]:
    """Warnings about an accepted legacy (per-entry iovec) layout."""
    out = []
    if p.payload_base == 0:
        out.append(_warn("payload_base_zero",
                         "the entry's payload pointer is 0 (NULL): setup_fuse_copy_state() "
                         "imports the payload only when the pointer is non-NULL (SEMANTICS §10), "
                         "so this entry's requests get no payload copy"))
    out += _header_warnings(p, "the entry's header")
    header = (p.headers_base, p.headers_base + REQ_HEADER_SZ)
    used = (p.payload_base, p.payload_base + p.max_payload_sz)
    both = _overlap(header, used)
    if both is not None:
        out.append(_warn("headers_overlap_payload",
                         f"the entry's header [{header[0]:#x}, {header[1]:#x}) and the "
                         f"max_payload_sz bytes of its payload share [{both[0]:#x}, {both[1]:#x}): "
                         "a header copy overwrites payload, and a payload copy a header"))
    if p.payload_base % PAGE_SIZE:
        out.append(_warn("payload_not_page_aligned",
                         f"payload {p.payload_base:#x} is not on a {PAGE_SIZE}-byte page: a server "
                         "doing O_DIRECT I/O straight into it needs block alignment, and it spans "
                         "one more page for the kernel to fault in on every copy"))
    return tuple(out)

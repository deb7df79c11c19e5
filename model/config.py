"""Run configuration: the TRACE-FORMAT ``config`` keys (SEMANTICS §0.2, §9).

A frozen value passed down explicitly; nothing global. Validation of user input
happens where the input is read (``model.traces``); ``Config.check()`` states
the value ranges once for every reader.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from bufring.model.uapi import DEFAULT_MAX_BACKGROUND, DEFAULT_MAX_PAYLOAD_SZ


@dataclass(frozen=True)
class Config:
    """One run's constants (TLA+'s CONSTANTS).

    ``counter_bits`` narrows the kernel's 32-bit ``head``/``tail`` so that
    wraparound is reachable in few steps; ``counter_start`` pre-advances them.
    ``fetch_on_register`` selects the newer trees' behaviour of REGISTER taking a
    queued request at once (not the patch base, SEMANTICS §0.2). ``deferred_send``
    (an extension of the trace format) leaves an assigned entry in FUSE_REQ until
    a ``send`` step runs its task work, so other steps can interleave there.
    """

    nr_queues: int = 1
    max_payload_sz: int = DEFAULT_MAX_PAYLOAD_SZ
    max_background: int = DEFAULT_MAX_BACKGROUND
    counter_bits: int = 32
    counter_start: int = 0
    fetch_on_register: bool = False
    deferred_send: bool = False

    # Keys of the project's trace-format extensions: written only when not default,
    # so that a plain trace stays TRACE-FORMAT v1.
    EXTENSION_KEYS = ("deferred_send",)

    def problems(self) -> list[tuple[str, str]]:
        """(key, message) for every value outside its range; empty when valid."""
        out = []
        if not 1 <= self.nr_queues <= 0xFFFFFFFF:
            out.append(("nr_queues", "must be a u32 >= 1"))
        if not 0 <= self.max_payload_sz <= 0xFFFFFFFFFFFFFFFF:
            out.append(("max_payload_sz", "must be a size_t (0 to 2^64-1)"))
        if not 0 <= self.max_background <= 0xFFFFFFFF:
            out.append(("max_background", "must be a u32"))
        if not 1 <= self.counter_bits <= 32:
            out.append(("counter_bits", "must be 1 to 32"))
        elif not 0 <= self.counter_start < (1 << self.counter_bits):
            out.append(("counter_start", f"must be 0 to 2^{self.counter_bits}-1"))
        return out

    def to_json(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in self.EXTENSION_KEYS or getattr(self, f.name) != f.default}


CONFIG_TYPES = {f.name: (bool if f.type == "bool" else int) for f in fields(Config)}
"""JSON type of each config key, for the trace reader."""

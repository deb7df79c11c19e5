"""Variants: one version of the kernel code each (the patch as posted, a fix, a v3).

A :class:`Variant` is a frozen record of the hookable pieces of the model. ``V2``
is the patch as posted; a fix or a user's own version is ``V2.derive(...)`` with
the pieces it changes. The hooks, and what each one models by default:

=========================  ===========================================================
hook                        default (v2)
=========================  ===========================================================
``gate_rules``              checks of ``fuse_uring_register()`` (qid, flags)
``bufring_setup_rules``     checks of ``fuse_uring_bufring_setup()``
``ent_bufring_rules``       checks of ``fuse_uring_create_ring_ent()``, bufring mode
``ent_legacy_rules``        checks of ``fuse_uring_create_ring_ent()``, legacy mode
``queue_init_consistent``   ``queue_init_flags_consistent()``: may a REGISTER join
                            an existing queue? ``(queue, register) -> bool``
``ring_select``             ring part of select: ``(bufring, bits) -> (ring, id) | None``
``ring_recycle``            ring part of recycle: ``(bufring, id, bits) -> (ring, warned)``
``buffer_selected``         "the entry holds a buffer": ``payload_buf.addr != 0``
``select_buffer``           ``fuse_uring_select_buffer()``
``recycle_buffer``          ``fuse_uring_recycle_buffer()``
``next_req_update_buffer``  ``fuse_uring_next_req_update_buffer()`` (fetch-next)
``prep_buffer``             ``fuse_uring_prep_buffer()`` (request arrival)
``ent_assign_req``          ``fuse_uring_ent_assign_req()``: what an entry does when
                            it goes idle after a commit
``wake_idle``               what idle entries do at the end of each locked section
                            that may have made work takeable: nothing in v2
``ent_before_publish``      check the new entry before publishing the queue a
                            REGISTER creates (v2: publish first, so a failed entry
                            check leaves the queue)
=========================  ===========================================================

Function hooks receive the step ``k`` (``model.kernel.Step``: variant, config,
observation being built), the mutable queue ``q`` and the entry index ``i``, as
the functions of ``model.kernel`` that they replace do; rule hooks are tuples of
``model.rules.Rule``. Users write a variant in their own file and pass
``--variant path/to/file.py:NAME`` (see docs/variants.md).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

from bufring.model import kernel, ring, rules


def same_mode(queue, register) -> bool:
    """``queue_init_flags_consistent()``: the queue's bufring mode equals the flag."""
    from bufring.model.cint import CONCRETE
    return (queue.bufring is not None) == bool(rules.wants_bufring(CONCRETE, register.flags))


@dataclass(frozen=True)
class Variant:
    """The hookable pieces of the model, and a name and one line for people."""

    name: str
    doc: str
    gate_rules: tuple = rules.GATE_RULES
    bufring_setup_rules: tuple = rules.BUFRING_SETUP_RULES
    ent_bufring_rules: tuple = rules.ENT_BUFRING_RULES
    ent_legacy_rules: tuple = rules.ENT_LEGACY_RULES
    queue_init_consistent: Callable[[Any, Any], bool] = same_mode
    ring_select: Callable = ring.select
    ring_recycle: Callable = ring.recycle
    buffer_selected: Callable = kernel.buffer_selected
    select_buffer: Callable = kernel.fuse_uring_select_buffer
    recycle_buffer: Callable = kernel.fuse_uring_recycle_buffer
    next_req_update_buffer: Callable = kernel.fuse_uring_next_req_update_buffer
    prep_buffer: Callable = kernel.fuse_uring_prep_buffer
    ent_assign_req: Callable = kernel.fuse_uring_ent_assign_req
    wake_idle: Callable = kernel.idle_entries_wait
    ent_before_publish: bool = False
    source: str = field(default="built-in", compare=False)

    def derive(self, name: str, doc: str, **hooks) -> "Variant":
        """A new variant: this one with the named hooks replaced.

        An unknown hook name raises ``TypeError`` naming the hooks that exist.
        """
        known = {f.name for f in dataclasses.fields(self)} - {"name", "doc", "source"}
        unknown = sorted(set(hooks) - known)
        if unknown:
            raise TypeError(f"unknown hook(s) {', '.join(unknown)}; hooks are: {', '.join(sorted(known))}")
        return dataclasses.replace(self, name=name, doc=doc, **hooks)

    def changed_hooks(self, base: "Variant") -> list[str]:
        """Names of the hooks that differ from ``base``."""
        skip = {"name", "doc", "source"}
        return [f.name for f in dataclasses.fields(self)
                if f.name not in skip and getattr(self, f.name) != getattr(base, f.name)]


V2 = Variant(name="v2", doc="[PATCH v2 10/14] fuse: add io-uring buffer rings, as posted")

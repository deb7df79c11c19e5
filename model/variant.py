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
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from bufring.model import kernel, ring, rules
from bufring.model.errors import BadInput


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

BUILTIN: dict[str, Variant] = {V2.name: V2}


def register_builtin(variant: Variant) -> Variant:
    """Add a built-in variant (the fix variants do, on import)."""
    BUILTIN[variant.name] = variant
    return variant


def builtin_variants() -> dict[str, Variant]:
    """All built-in variants by name: v2 and the fix variants (``model.fixes``)."""
    from bufring.model import fixes  # noqa: F401  (defining them registers them)
    return dict(BUILTIN)


def load_variant(spec: str, where: str = "--variant") -> Variant:
    """A built-in variant by name, or ``path/to/file.py:NAME`` from a user's file.

    Any problem is one :class:`BadInput` line naming the file (and the line, for
    a syntax error) and what is wrong.
    """
    variants = builtin_variants()
    if spec in variants:
        return variants[spec]
    if ":" not in spec:
        raise BadInput(where, None, "variant",
                       f"unknown variant {spec!r}; built-in: {', '.join(sorted(variants))}; "
                       "or give path/to/file.py:NAME")
    path_text, _, attr = spec.rpartition(":")
    path = Path(path_text)
    if not path.is_file():
        raise BadInput(path_text, None, "variant", "no such file")
    if not attr.isidentifier():
        raise BadInput(path_text, None, "variant", f"{attr!r} is not a Python name")
    module_name = f"bufring_user_variant_{abs(hash(str(path.resolve())))}"
    try:
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        if module_spec is None or module_spec.loader is None:
            raise BadInput(path_text, None, "variant", "not a Python file")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module
        module_spec.loader.exec_module(module)
    except BadInput:
        raise
    except SyntaxError as e:
        raise BadInput(path_text, e.lineno, "variant", f"syntax error: {e.msg}") from None
    except Exception as e:  # the user's module raised while loading
        line = _user_line(e, path)
        raise BadInput(path_text, line, "variant",
                       f"loading failed: {type(e).__name__}: {e}") from None
    if not hasattr(module, attr):
        raise BadInput(path_text, None, "variant", f"defines no {attr!r}")
    value = getattr(module, attr)
    if not isinstance(value, Variant):
        raise BadInput(path_text, None, "variant",
                       f"{attr!r} is a {type(value).__name__}, not a Variant "
                       "(build it with bufring.model.variant.V2.derive(...))")
    return dataclasses.replace(value, source=f"{path_text}:{attr}")


def _user_line(exc: BaseException, path: Path) -> int | None:
    """The line of the user's file where ``exc`` was raised, if it was raised there."""
    tb = exc.__traceback__
    line = None
    target = str(path.resolve())
    while tb is not None:
        if str(Path(tb.tb_frame.f_code.co_filename).resolve()) == target:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line

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

Beyond the hooks, **every function of** ``model.kernel`` **and** ``model.register``
can be replaced by its name: ``V2.derive("my-fix", "doc", fuse_uring_flush_bg=f)``.
The flow hooks are such functions under a short name (``select_buffer`` is
``fuse_uring_select_buffer``; both names work). Each variant runs its own copies
of those two modules' functions, built once when the variant is made, whose
calls to one another resolve in the variant's table (:data:`Variant.fn`), so a
replacement takes effect everywhere, at no cost per call. The originals stay
importable: ``from bufring.model import kernel; kernel.fuse_uring_flush_bg(k, q)``
runs v2's code (and v2's own callees); ``k.fn.NAME`` is the variant's version.
"""
from __future__ import annotations

import dataclasses
import inspect
import types
from dataclasses import dataclass, field
from typing import Any, Callable

from bufring.model import kernel, register, ring, rules

KERNEL_MODULES = (kernel, register)
"""The modules whose every function a variant may replace by name."""


def _module_functions(module) -> dict[str, Callable]:
    return {name: f for name, f in vars(module).items()
            if inspect.isfunction(f) and f.__module__ == module.__name__}


KERNEL_FUNCTIONS: dict[str, Callable] = {name: f for m in KERNEL_MODULES
                                         for name, f in _module_functions(m).items()}
"""Every replaceable kernel function by name: v2's originals."""

HOOK_FUNCTIONS = {
    "buffer_selected": "buffer_selected",
    "select_buffer": "fuse_uring_select_buffer",
    "recycle_buffer": "fuse_uring_recycle_buffer",
    "next_req_update_buffer": "fuse_uring_next_req_update_buffer",
    "prep_buffer": "fuse_uring_prep_buffer",
    "ent_assign_req": "fuse_uring_ent_assign_req",
    "wake_idle": "idle_entries_wait",
}
"""Flow hook -> the kernel function it is (the hook's default)."""

_HOOK_OF = {fname: hook for hook, fname in HOOK_FUNCTIONS.items()}


def kernel_table(replaced: dict[str, Callable]) -> types.SimpleNamespace:
    """The variant's kernel functions by name: ``replaced`` where given, else a copy
    of the original bound to this table (its calls to other kernel functions find
    the variant's versions). Built once per variant."""
    table: dict[str, Callable] = {}
    scopes = {m.__name__: dict(vars(m)) for m in KERNEL_MODULES}
    for name, f in KERNEL_FUNCTIONS.items():
        if name in replaced:
            table[name] = replaced[name]
            continue
        g = scopes[f.__module__]
        copy = types.FunctionType(f.__code__, g, f.__name__, f.__defaults__, f.__closure__)
        copy.__kwdefaults__, copy.__doc__, copy.__qualname__ = f.__kwdefaults__, f.__doc__, f.__qualname__
        copy.__module__ = f.__module__
        table[name] = copy
    for g in scopes.values():
        for name in g.keys() & table.keys():
            g[name] = table[name]
    return types.SimpleNamespace(**table)


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
    overrides: tuple[tuple[str, Callable], ...] = ()   # (kernel function name, replacement)
    source: str = field(default="built-in", compare=False)
    fn: types.SimpleNamespace = field(init=False, compare=False, repr=False)

    def __post_init__(self):
        replaced = dict(self.overrides)
        for hook, fname in HOOK_FUNCTIONS.items():
            value = getattr(self, hook)
            if value is not KERNEL_FUNCTIONS[fname]:
                replaced[fname] = value
        object.__setattr__(self, "fn", kernel_table(replaced))

    def __getstate__(self):
        state = dict(self.__dict__)
        del state["fn"]                  # rebuilt on load: copies bound to a table
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__post_init__()

    def derive(self, name: str, doc: str, **hooks) -> "Variant":
        """A new variant: this one with the named hooks or kernel functions replaced.

        A name is a hook (a field of this class) or any function of
        ``model.kernel`` or ``model.register`` (:data:`KERNEL_FUNCTIONS`); a flow
        hook's kernel name sets the hook. Anything else raises ``TypeError``
        naming what exists.
        """
        known = {f.name for f in dataclasses.fields(self) if f.init} - {"name", "doc", "source", "overrides"}
        unknown = sorted(set(hooks) - known - KERNEL_FUNCTIONS.keys())
        if unknown:
            raise TypeError(f"unknown hook(s) or kernel function(s) {', '.join(unknown)}; hooks are: "
                            f"{', '.join(sorted(known))}; or any function of model.kernel and "
                            f"model.register by name")
        fields_, overrides = {}, dict(self.overrides)
        for key, value in hooks.items():
            if key in known:
                fields_[key] = value
            elif key in _HOOK_OF:
                fields_[_HOOK_OF[key]] = value
            else:
                overrides[key] = value
        return dataclasses.replace(self, name=name, doc=doc, overrides=tuple(sorted(overrides.items())),
                                   **fields_)

    def changed_hooks(self, base: "Variant") -> list[str]:
        """Names of the hooks, and of the kernel functions replaced by name, that
        differ from ``base``."""
        skip = {"name", "doc", "source", "overrides", "fn"}
        hooks = [f.name for f in dataclasses.fields(self)
                 if f.name not in skip and getattr(self, f.name) != getattr(base, f.name)]
        mine, theirs = dict(self.overrides), dict(base.overrides)
        return hooks + sorted(n for n in mine.keys() | theirs.keys() if mine.get(n) is not theirs.get(n))


V2 = Variant(name="v2", doc="[PATCH v2 10/14] fuse: add io-uring buffer rings, as posted")

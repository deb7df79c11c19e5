"""Where the search keeps its visited states: one small int per state.

A model state is a tree of tuples of about 1 KiB. Most of its subtrees recur in
thousands of states (the same buffer ring, the same pair of entries, the same
request lists), so :class:`PackedStore` interns them (hash-consing): each distinct
``BufRing``, ``ents`` tuple, rest-of-the-queue tuple and tuple of connection-wide
fields is kept once, in an :class:`Interner`, and a stored state is one Python int
packing their ids in 32-bit slots. The int is the key of the visited set; the state
is rebuilt from it (:meth:`PackedStore.__getitem__`) when it is expanded or read by
an analysis. Nothing is hashed or compared approximately: two states get the same
key iff they are equal, so the search is exact (no fingerprint collisions).

:class:`PlainStore` keeps any hashable states as they are (toy models in tests,
and any model whose states are not :class:`~bufring.model.state.State`).

Both behave as a read-only sequence of states (``len``, indexing, iteration,
``index``) plus ``find``/``add`` for the search.
"""
from __future__ import annotations

from bufring.model.state import Queue, State

SLOT = 32
MASK = (1 << SLOT) - 1


class Interner:
    """Distinct objects numbered 0, 1, ... in order of first sight."""

    __slots__ = ("ids", "objs")

    def __init__(self):
        self.ids: dict = {}
        self.objs: list = []

    def id(self, obj) -> int:
        i = self.ids.get(obj)
        if i is None:
            i = self.ids[obj] = len(self.objs)
            if i > MASK:
                raise OverflowError("more distinct state parts than a 32-bit slot can number")
            self.objs.append(obj)
        return i

    def __len__(self) -> int:
        return len(self.objs)


class PlainStore:
    """Hashable states kept as they are."""

    def __init__(self):
        self._states: list = []
        self._index: dict = {}

    def find(self, state) -> int | None:
        return self._index.get(state)

    def add(self, state) -> int:
        idx = self._index[state] = len(self._states)
        self._states.append(state)
        return idx

    def find_or_add(self, state, room: bool) -> tuple[int | None, bool]:
        """As :meth:`PackedStore.find_or_add`."""
        idx = self._index.get(state)
        if idx is not None:
            return idx, False
        return (self.add(state), True) if room else (None, True)

    def key(self, idx: int):
        return self._states[idx]

    def __len__(self) -> int:
        return len(self._states)

    def __getitem__(self, idx: int):
        return self._states[idx]

    def __iter__(self):
        return iter(self._states)

    def index(self, state) -> int:
        idx = self._index.get(state)
        if idx is None:
            raise ValueError(f"{state!r} is not a stored state")
        return idx


# State is (queues, <connection-wide fields>...); Queue is (bufring, ents, <the rest>...).
assert State._fields[0] == "queues" and Queue._fields[:2] == ("bufring", "ents")


class PackedStore:
    """:class:`~bufring.model.state.State` values as packed ints of interned parts.

    Key layout, low bits first, one 32-bit slot each: the id of the tuple of the
    state's connection-wide fields (every field but ``queues``), then per
    existing queue, in qid order: ``qid + 1``, the id of its ``bufring``, of its
    ``ents`` tuple and of the tuple of its other fields. Reading a key back
    gives a state equal to the one stored (sharing the interned parts).
    """

    def __init__(self):
        self.conn = Interner()
        self.rings = Interner()
        self.ents = Interner()
        self.rest = Interner()
        self._keys: list[int] = []
        self._index: dict[int, int] = {}

    def encode(self, state: State) -> int:
        """The key of ``state`` (interning its parts on first sight)."""
        conn = state[1:]
        key = self.conn.ids.get(conn)
        if key is None:
            key = self.conn.id(conn)
        shift = SLOT
        rings, ents, rest = self.rings, self.ents, self.rest
        for qid, q in state[0]:
            r, e, x = q[0], q[1], q[2:]
            rid = rings.ids.get(r)
            if rid is None:
                rid = rings.id(r)
            eid = ents.ids.get(e)
            if eid is None:
                eid = ents.id(e)
            xid = rest.ids.get(x)
            if xid is None:
                xid = rest.id(x)
            key |= ((qid + 1) | rid << SLOT | eid << 2 * SLOT | xid << 3 * SLOT) << shift
            shift += 4 * SLOT
        return key

    def decode(self, key: int) -> State:
        """The state a key stands for."""
        conn = self.conn.objs[key & MASK]
        key >>= SLOT
        queues = []
        rings, ents, rest = self.rings.objs, self.ents.objs, self.rest.objs
        while key:
            queues.append(((key & MASK) - 1,
                           Queue(rings[key >> SLOT & MASK], ents[key >> 2 * SLOT & MASK],
                                 *rest[key >> 3 * SLOT & MASK])))
            key >>= 4 * SLOT
        return State(tuple(queues), *conn)

    def find(self, state: State) -> int | None:
        return self._index.get(self.encode(state))

    def add(self, state: State) -> int:
        key = self.encode(state)
        idx = self._index[key] = len(self._keys)
        self._keys.append(key)
        return idx

    def find_or_add(self, state: State, room: bool) -> tuple[int | None, bool]:
        """``(index, new)``: the stored index of ``state``, adding it when it is new
        and ``room`` allows (else ``(None, True)``)."""
        key = self.encode(state)
        idx = self._index.get(key)
        if idx is not None:
            return idx, False
        if not room:
            return None, True
        idx = self._index[key] = len(self._keys)
        self._keys.append(key)
        return idx, True

    def key(self, idx: int) -> int:
        return self._keys[idx]

    def __len__(self) -> int:
        return len(self._keys)

    def __getitem__(self, idx: int) -> State:
        return self.decode(self._keys[idx])

    def __iter__(self):
        decode = self.decode
        return (decode(k) for k in self._keys)

    def index(self, state: State) -> int:
        idx = self.find(state)
        if idx is None:
            raise ValueError("not a stored state")
        return idx

    def parts(self) -> dict:
        """How many distinct parts each table holds (for the bench notes)."""
        return {"conn": len(self.conn), "rings": len(self.rings), "ents": len(self.ents),
                "rest": len(self.rest)}


def share_parts(state, memo: dict):
    """``state`` rebuilt from the parts ``memo`` already holds (adding its new ones), so
    that equal parts of the states of one batch are one object: pickle then sends
    each once. Anything but a :class:`State` is returned as it is."""
    if type(state) is not State:
        return state
    part = memo.setdefault
    queues = tuple((qid, Queue(part(q[0], q[0]), part(q[1], q[1]), *part(q[2:], q[2:])))
                   for qid, q in state[0])
    return State(queues, *part(state[1:], state[1:]))


def store_for(init_states) -> PlainStore | PackedStore:
    """A packed store for model states, a plain one for anything else."""
    if init_states and all(type(s) is State for s in init_states):
        return PackedStore()
    return PlainStore()

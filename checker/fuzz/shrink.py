"""Shrinking a failing run to a minimal trace: fewer steps, plainer values, plainer config.

Hypothesis finds the failing runs; this module shrinks them. Hypothesis's own
stateful shrinker was measured on this machine at 150 to 220 s per property and
still left 18-step runs with idle commits, because deleting a step shifts every
later draw. The model is deterministic and cheap, so shrinking works on the run
itself, as a list of actions, with a ``find(cfg, actions) -> int | None`` oracle
that says at which step the finding (a property failure, a divergence) happens
and None when the run lost it or is no valid trace.

Passes, repeated until none makes progress (or the evaluation budget is spent):
cut the run after the finding; delete chunks of steps, then single steps (the
result is 1-minimal: no single step can go); replace each step by plainer ones
(qid 0, no payload, foreground, reply 0, ...); plainer config values (the
defaults of TRACE-FORMAT); renumber uniques 1, 2, 3, ...
"""
from __future__ import annotations

import time
from dataclasses import fields, replace
from typing import Callable

from bufring.model.actions import Action, Commit, Register, Request
from bufring.model.config import Config

__all__ = ["shrink"]

Find = Callable[[Config, list], "int | None"]

_DEFAULTS = Config()


class _Shrinker:
    """The current best (cfg, run) and the oracle, with an evaluation budget."""

    def __init__(self, find: Find, evaluations: int, seconds: float):
        self.find = find
        self.left = evaluations
        self.deadline = time.monotonic() + seconds
        self.cfg: Config | None = None
        self.run: list[Action] = []

    def spent(self) -> bool:
        return self.left <= 0 or time.monotonic() > self.deadline

    def at(self, cfg: Config, run: list[Action]) -> int | None:
        if self.spent():
            return None
        self.left -= 1
        try:
            return self.find(cfg, run)
        except Exception:          # an invalid candidate is simply not taken
            return None

    def accept(self, cfg: Config, run: list[Action]) -> bool:
        """Take (cfg, run) as the new best when the finding survives on it."""
        k = self.at(cfg, run)
        if k is None:
            return False
        self.cfg, self.run = cfg, list(run[:k + 1])
        return True

    # --- passes ---------------------------------------------------------------------------
    def delete_chunks(self) -> bool:
        changed = False
        size = max(1, len(self.run) // 2)
        while size >= 1:
            j = len(self.run) - size
            while j >= 0:
                run = self.run
                if j + size <= len(run) and self.accept(self.cfg, run[:j] + run[j + size:]):
                    changed = True
                    j = min(j, len(self.run) - size)
                    continue
                j -= 1
            size //= 2
        return changed

    def simplify_steps(self) -> bool:
        changed = False
        j = 0
        while j < len(self.run):
            for cand in _plainer(self.run[j], self.cfg):
                if self.accept(self.cfg, self.run[:j] + [cand] + self.run[j + 1:]):
                    changed = True
                    break
            j += 1
        return changed

    def simplify_config(self) -> bool:
        changed = False
        for f in fields(Config):
            have = getattr(self.cfg, f.name)
            want = getattr(_DEFAULTS, f.name)
            if have == want:
                continue
            candidates = [want]
            if f.name == "max_payload_sz":
                candidates = [8192] if have != 8192 else []
            elif f.name == "nr_queues":
                candidates = list(range(1, have))
            elif f.name == "max_background":
                candidates = [want] + sorted({have // 2, have - 1} - {have, want})
            elif f.name == "counter_bits":
                candidates = [want]
            elif f.name == "counter_start":
                candidates = [0]
            for value in candidates:
                try:
                    cand = replace(self.cfg, **{f.name: value})
                except (TypeError, ValueError):
                    continue
                if not cand.problems() and self.accept(cand, self.run):
                    changed = True
                    break
        return changed

    def narrower_counters(self) -> bool:
        """A smaller counter width (same distance of ``counter_start`` to the wrap) that
        lets the run lose a step: wraps come sooner with fewer bits."""
        bits, start = self.cfg.counter_bits, self.cfg.counter_start
        if start == 0:
            return False
        to_wrap = (1 << bits) - start
        return any(self._loses_a_step(replace(self.cfg, counter_bits=b,
                                              counter_start=max(0, (1 << b) - to_wrap)))
                   for b in range(3, bits))

    def _loses_a_step(self, cand) -> bool:
        """Does config ``cand`` (if valid) let the run drop one of its steps?"""
        if cand.problems():
            return False
        return any(self.accept(cand, self.run[:j] + self.run[j + 1:])
                   for j in range(len(self.run) - 1, -1, -1))

    def smaller_ring(self) -> bool:
        """A ring of fewer buffers, with ``counter_start`` moved so that the tail is as far
        from the wrap as before (a wrap finding then needs fewer selects to show)."""
        span, start = 1 << self.cfg.counter_bits, self.cfg.counter_start
        for j, a in enumerate(self.run):
            if not isinstance(a, Register) or not a.flags & 1 or not a.buf_size:
                continue
            (pb, pl), bs = a.payload, a.buf_size
            if pl >= 1 << 63:
                continue
            n = pl // bs
            room = span - start - n               # how far the tail starts from the wrap
            for m in range(1, min(n, 8)):
                cand = self.run[:j] + [a._replace(payload=(pb, m * bs))] + self.run[j + 1:]
                starts = [span - m - room] if start else [0, span - m]
                for st in starts:
                    cand_cfg = replace(self.cfg, counter_start=st)
                    if not cand_cfg.problems() and self.accept(cand_cfg, cand):
                        return True
        return False

    def closer_wrap(self) -> bool:
        """``counter_start`` nearer the wrap, when that lets the run lose a step."""
        span, start = 1 << self.cfg.counter_bits, self.cfg.counter_start
        return any(self._loses_a_step(replace(self.cfg, counter_start=span - k))
                   for k in range(1, min(span - start, 17)))

    def fewer_queues(self) -> bool:
        """Fewer queues: drop every step on the queues beyond the new ``nr_queues``."""
        n = self.cfg.nr_queues
        for m in range(1, n):
            run = [a for a in self.run if not m <= _qid(a) < n]
            if self.accept(replace(self.cfg, nr_queues=m), run):
                return True
        return False

    def swap_qids(self) -> bool:
        """Move the queues that matter to the low qids (swap two qids everywhere)."""
        n = self.cfg.nr_queues
        for hi in range(n - 1, 0, -1):
            for lo in range(hi):
                run = [_with_qid(a, {hi: lo, lo: hi}.get(_qid(a), _qid(a))) if _qid(a) < n else a
                       for a in self.run]
                if run != self.run and self.accept(self.cfg, run):
                    return True
        return False

    def renumber(self) -> bool:
        mapping: dict[int, int] = {}
        for a in self.run:
            if isinstance(a, Request) and a.unique not in mapping:
                mapping[a.unique] = len(mapping) + 1
        if all(k == v for k, v in mapping.items()):
            return False
        renamed = []
        for a in self.run:
            if isinstance(a, Request):
                renamed.append(a._replace(unique=mapping[a.unique]))
            elif isinstance(a, Commit) and a.commit_id in mapping:
                renamed.append(a._replace(commit_id=mapping[a.commit_id]))
            else:
                renamed.append(a)
        return self.accept(self.cfg, renamed)


def shrink(find: Find, cfg: Config, actions: list[Action], *, evaluations: int = 4000,
           seconds: float = 30.0, values: bool = True) -> tuple[Config, list[Action]]:
    """A smaller (cfg, actions) on which ``find`` still reports the finding at the last step.

    ``find`` must report the finding on the input; when it does not, the input is
    returned unchanged. ``values=False`` only drops steps and queues (for findings
    that plainer values cannot change, such as an implementation crashing at step n).
    """
    s = _Shrinker(find, evaluations, seconds)
    if not s.accept(cfg, list(actions)):
        return cfg, list(actions)
    progress = True
    while progress and not s.spent():
        progress = False
        passes = (s.delete_chunks, s.fewer_queues, s.swap_qids, s.simplify_steps,
                  s.simplify_config, s.narrower_counters, s.smaller_ring, s.closer_wrap,
                  s.renumber)
        for step in passes if values else passes[:2]:
            progress |= step()
    return s.cfg, s.run


def _qid(action: Action) -> int:
    return action.qid


def _with_qid(action: Action, qid: int) -> Action:
    return action._replace(qid=qid)


def _plainer(action: Action, cfg: Config) -> list[Action]:
    """Plainer versions of one step, plainest first."""
    out = []
    if isinstance(action, Request):
        for kw in ({"qid": 0}, {"payload": False}, {"background": False}, {"opcode": None}):
            cand = action._replace(**kw)
            if cand != action:
                out.append(cand)
    elif isinstance(action, Commit):
        if action.reply_error != 0:
            out.append(action._replace(reply_error=0))
        if action.qid != 0:
            out.append(action._replace(qid=0))
    elif isinstance(action, Register):
        if action.buf_index:
            out.append(action._replace(buf_index=0))
        if action.qid:
            out.append(action._replace(qid=0))
        if action.flags not in (0, 1):
            out.append(action._replace(flags=action.flags & 1))
        if action.queue_depth > 1:
            out.append(action._replace(queue_depth=1, headers=(action.headers[0], min(action.headers[1], 288))))
            out.append(action._replace(queue_depth=1))
        (hb, hl), (pb, pl), bs = action.headers, action.payload, action.buf_size
        plain_h = 0x10000000 * (action.qid + 1) if action.flags & 1 else 0x20000000
        if hb != plain_h:
            out.append(action._replace(headers=(plain_h, hl)))
        if action.flags & 1 and hl > 288 * max(action.queue_depth, 1) and hl < 1 << 63:
            out.append(action._replace(headers=(hb, 288 * max(action.queue_depth, 1))))
        if not action.flags & 1 and hl > 288 and hl < 1 << 63:
            out.append(action._replace(headers=(hb, 288)))
        if bs > cfg.max_payload_sz and pl < 1 << 63:
            out.append(action._replace(buf_size=cfg.max_payload_sz,
                                       payload=(pb, cfg.max_payload_sz * max(1, pl // bs))))
        if bs and pl < 1 << 63 and pl % bs and pl // bs:
            out.append(action._replace(payload=(pb, pl - pl % bs)))
        if bs and pl < 1 << 63 and pl // bs > 1:
            out += [action._replace(payload=(pb, n * bs)) for n in (1, 2, 3) if n < pl // bs]
        if not action.flags & 1 and pl > cfg.max_payload_sz and pl < 1 << 63:
            out.append(action._replace(payload=(pb, cfg.max_payload_sz)))
        plain_p = 0x40000000 * (action.qid + 1)
        if pb != plain_p:
            out.append(action._replace(payload=(plain_p, pl)))
    return out

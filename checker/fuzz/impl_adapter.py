"""Adapters to implementations under test (TRACE-FORMAT "Implementation protocol").

Two kinds, one interface (:class:`Adapter`): ``reset(config) -> None | reason`` starts
a fresh run (``reason``: the implementation declines this config), ``step(obj) ->
dict`` sends one step object (without ``expect``) and returns the observation.

* :class:`SubprocessAdapter` runs a command of any language once, through the shell,
  and speaks JSON Lines over its stdin/stdout. A crash, an exit, an answer that is
  not one JSON object, or no answer within the timeout raise :class:`ImplFailure`
  (a divergence at that step) with the tail of the implementation's stderr; the
  process is restarted at the next ``reset``. When the process fails before it
  ever answered a header, :class:`CannotRun` is raised instead (exit 2: it cannot start).
* :class:`InProcessAdapter` loads ``FILE.py:NAME``, a Python class with
  ``reset(config)``, ``register(**args)``, ``request(**args)`` and
  ``commit(**args)`` (docs/conformance.md); an exception it raises is a divergence.

:func:`open_adapter` picks the kind from the ``--impl`` text as TRACE-FORMAT says:
``FILE.py:NAME`` with no spaces is a class, anything else a shell command.
"""
from __future__ import annotations

import collections
import importlib.util
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import traceback
from pathlib import Path

from bufring.model.errors import BadInput

__all__ = ["Adapter", "ImplFailure", "CannotRun", "SubprocessAdapter", "InProcessAdapter",
           "open_adapter", "is_class_spec", "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 10.0
STDERR_TAIL = 2000


class ImplFailure(Exception):
    """The implementation did not answer properly: ``kind`` is ``crash``, ``exit``,
    ``garbage``, ``timeout`` or ``exception``; ``stderr`` is its stderr tail."""

    def __init__(self, kind: str, message: str, stderr: str = ""):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.stderr = stderr

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


class CannotRun(Exception):
    """The implementation cannot be run at all (it never answered a header)."""


class Adapter:
    """The interface of both adapters."""

    name = "implementation"

    def reset(self, config: dict) -> str | None:
        raise NotImplementedError

    def step(self, obj: dict) -> dict:
        raise NotImplementedError

    def close(self) -> None:
        pass


def is_class_spec(spec: str) -> bool:
    """``FILE.py:NAME`` with no spaces names a Python class (TRACE-FORMAT)."""
    return re.fullmatch(r"\S+\.py:[A-Za-z_]\w*", spec) is not None


def open_adapter(spec: str, *, timeout: float = DEFAULT_TIMEOUT) -> Adapter:
    """The adapter for an ``--impl`` value; BadInput when a class file cannot be loaded."""
    if not spec.strip():
        raise BadInput("--impl", None, None, "empty implementation")
    if is_class_spec(spec):
        return InProcessAdapter.load(spec)
    return SubprocessAdapter(spec, timeout=timeout)


def _answer_object(text: str) -> dict:
    try:
        obj = json.loads(text)
    except ValueError:
        raise ImplFailure("garbage", f"answer is not JSON: {text[:200]!r}") from None
    if not isinstance(obj, dict):
        raise ImplFailure("garbage", f"answer is not a JSON object: {text[:200]!r}")
    return obj


def _reset_answer(obj) -> str | None:
    """None when the answer accepts the config, else the reason it declines."""
    if obj is None or obj is True or obj == {"ok": True}:
        return None
    if isinstance(obj, dict) and "unsupported" in obj:
        return str(obj["unsupported"])
    if isinstance(obj, str):
        return obj
    raise ImplFailure("garbage", f'header answer must be {{"ok": true}} or {{"unsupported": reason}}, '
                                 f"got {json.dumps(obj)[:200]}")


# --- subprocess -----------------------------------------------------------------------------

class SubprocessAdapter(Adapter):
    """One long-lived process, JSON Lines over stdin/stdout, an answer timeout."""

    def __init__(self, command: str, *, timeout: float = DEFAULT_TIMEOUT, cwd: str | None = None):
        self.command = command
        self.name = command
        self.timeout = timeout
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None
        self.answered_header = False
        self._lines: queue.Queue = queue.Queue()
        self._stderr: collections.deque = collections.deque(maxlen=STDERR_TAIL)
        self._stderr_lock = threading.Lock()

    # --- process ----------------------------------------------------------------------
    def _start(self) -> None:
        self._lines = queue.Queue()
        with self._stderr_lock:
            self._stderr.clear()
        try:
            self.proc = subprocess.Popen(self.command, shell=True, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         cwd=self.cwd, start_new_session=True,
                                         text=True, encoding="utf-8", errors="replace", bufsize=1)
        except OSError as e:
            raise CannotRun(f"{self.command}: cannot start: {e}") from None
        lines, proc = self._lines, self.proc
        threading.Thread(target=self._pump_stdout, args=(proc, lines), daemon=True).start()
        self._stderr_thread = threading.Thread(target=self._pump_stderr, args=(proc,), daemon=True)
        self._stderr_thread.start()

    @staticmethod
    def _pump_stdout(proc, lines) -> None:
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    def _pump_stderr(self, proc) -> None:
        for chunk in iter(lambda: proc.stderr.read(256), ""):
            with self._stderr_lock:
                self._stderr.extend(chunk)

    def stderr_tail(self) -> str:
        with self._stderr_lock:
            return "".join(self._stderr)

    def _kill(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            try:
                stream.close()
            except OSError:
                pass

    def close(self) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            try:
                proc.stdin.close()              # end of input means exit
                proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._kill()

    # --- one exchange ------------------------------------------------------------------------
    def _fail(self, kind: str, message: str) -> ImplFailure:
        """Kill the process (if it still runs), collect its stderr to the end."""
        proc, thread = self.proc, getattr(self, "_stderr_thread", None)
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
        if proc is not None:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if thread is not None:
            thread.join(timeout=1)          # the pump ends at EOF of the dead process
        tail = self.stderr_tail()
        self._kill()
        return ImplFailure(kind, message, tail)

    def _exchange(self, obj: dict) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self._kill()
            self._start()
        try:
            self.proc.stdin.write(json.dumps(obj) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise self._fail("exit", f"the process exited (status {self.proc.poll()}) before reading "
                                     "its input") from None
        try:
            line = self._lines.get(timeout=self.timeout)
        except queue.Empty:
            raise self._fail("timeout", f"no answer within {self.timeout:g} s") from None
        if line is None:
            code = self.proc.wait()
            kind = "exit" if code == 0 else "crash"
            raise self._fail(kind, f"the process exited with status {code} instead of answering")
        try:
            return _answer_object(line.strip())
        except ImplFailure as e:
            raise self._fail(e.kind, e.message) from None

    def reset(self, config: dict) -> str | None:
        if self.proc is not None and self.proc.poll() is not None:
            self._kill()
        try:
            answer = self._exchange({"trace": 1, "config": config})
            reason = _reset_answer(answer)
        except ImplFailure as e:
            if not self.answered_header:
                tail = f"; stderr: {e.stderr.strip()[-500:]}" if e.stderr.strip() else ""
                raise CannotRun(f"{self.command}: {e}{tail}") from None
            raise
        self.answered_header = True
        return reason

    def step(self, obj: dict) -> dict:
        return self._exchange(obj)


# --- in process -------------------------------------------------------------------------------

class InProcessAdapter(Adapter):
    """A Python class with ``reset(config)``, ``register``, ``request``, ``commit``."""

    OPS = ("register", "request", "commit")

    def __init__(self, instance, name: str):
        self.impl = instance
        self.name = name

    @classmethod
    def load(cls, spec: str) -> "InProcessAdapter":
        path_text, _, attr = spec.rpartition(":")
        path = Path(path_text)
        if not path.is_file():
            raise BadInput(path_text, None, "impl", "no such file")
        module_name = f"bufring_impl_{abs(hash(str(path.resolve())))}"
        try:
            module_spec = importlib.util.spec_from_file_location(module_name, path)
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[module_name] = module
            module_spec.loader.exec_module(module)
        except SyntaxError as e:
            raise BadInput(path_text, e.lineno, "impl", f"syntax error: {e.msg}") from None
        except Exception as e:  # the user's module raised while loading
            raise BadInput(path_text, None, "impl", f"loading failed: {type(e).__name__}: {e}") from None
        target = getattr(module, attr, None)
        if target is None:
            raise BadInput(path_text, None, "impl", f"defines no {attr!r}")
        missing = [m for m in ("reset",) + cls.OPS if not callable(getattr(target, m, None))]
        if missing:
            raise BadInput(path_text, None, "impl", f"{attr!r} lacks method(s) {', '.join(missing)} "
                                                    "(see docs/conformance.md)")
        try:
            instance = target() if isinstance(target, type) else target
        except Exception as e:
            raise BadInput(path_text, None, "impl", f"{attr}() failed: {type(e).__name__}: {e}") from None
        return cls(instance, spec)

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as e:  # the implementation's bug is a divergence, not ours
            tail = "".join(traceback.format_exception(type(e), e, e.__traceback__))[-STDERR_TAIL:]
            raise ImplFailure("exception", f"{type(e).__name__}: {e}", tail) from None

    def reset(self, config: dict) -> str | None:
        return _reset_answer(self._call(self.impl.reset, dict(config)))

    def step(self, obj: dict) -> dict:
        args = dict(obj)
        op = args.pop("op")
        if op == "register":
            for key in ("headers", "payload"):
                if key in args:
                    args[key] = tuple(args[key])
        answer = self._call(getattr(self.impl, op), **args)
        if not isinstance(answer, dict):
            raise ImplFailure("garbage", f"{op}() returned {type(answer).__name__}, not a dict")
        # round-trip through JSON, as the subprocess protocol would
        try:
            return json.loads(json.dumps(answer))
        except (TypeError, ValueError) as e:
            raise ImplFailure("garbage", f"{op}() returned a dict that is not JSON: {e}") from None

"""Loading one name from a user's Python file: ``path/to/file.py:NAME``.

``--variant FILE.py:NAME`` (``model.builtin``) and ``--property FILE.py:NAME``
(``specs.user``) both run a user's file as a module and take one of its names.
Any problem (no such file, a syntax error, an exception while the module runs,
no such name) is one :class:`BadInput` line naming the file, the line where the
file says it, and what ``what`` (the kind of thing asked for) was expected.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from bufring.model.errors import BadInput


def is_file_spec(spec: str) -> bool:
    """Does ``spec`` name ``FILE.py:NAME`` rather than a built-in name?"""
    path_text, sep, _ = spec.rpartition(":")
    return bool(sep) and (path_text.endswith(".py") or Path(path_text).is_file())


def load_name(spec: str, what: str) -> tuple[str, object]:
    """``(path text, value)`` of NAME in the file of ``spec`` (``FILE.py:NAME``)."""
    path_text, _, attr = spec.rpartition(":")
    path = Path(path_text)
    if not path.is_file():
        raise BadInput(path_text, None, what, "no such file")
    if not attr.isidentifier():
        raise BadInput(path_text, None, what, f"{attr!r} is not a Python name")
    module_name = f"bufring_user_{what}_{abs(hash(str(path.resolve())))}"
    try:
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        if module_spec is None or module_spec.loader is None:
            raise BadInput(path_text, None, what, "not a Python file")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module
        module_spec.loader.exec_module(module)
    except BadInput:
        raise
    except SyntaxError as e:
        raise BadInput(path_text, e.lineno, what, f"syntax error: {e.msg}") from None
    except Exception as e:  # the user's module raised while loading
        raise BadInput(path_text, user_line(e, path), what,
                       f"loading failed: {type(e).__name__}: {e}") from None
    if not hasattr(module, attr):
        raise BadInput(path_text, None, what, f"defines no {attr!r}")
    return path_text, getattr(module, attr)


def user_line(exc: BaseException, path: Path) -> int | None:
    """The line of the user's file where ``exc`` was raised, if it was raised there."""
    tb = exc.__traceback__
    line = None
    target = str(Path(path).resolve())
    while tb is not None:
        if str(Path(tb.tb_frame.f_code.co_filename).resolve()) == target:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line

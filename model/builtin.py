"""The built-in variants by name, and loading a user's variant from a file.

``--variant NAME`` names a built-in one (v2 and the fixes of ``model.fixes``);
``--variant path/to/file.py:NAME`` loads a :class:`~bufring.model.variant.Variant`
that a user's file builds with ``V2.derive(...)`` (docs/variants.md).
"""
from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

from bufring.model.errors import BadInput
from bufring.model.fixes import FIXES
from bufring.model.variant import V2, Variant


def builtin_variants() -> dict[str, Variant]:
    """All built-in variants by name: v2, then the fix variants (``model.fixes``)."""
    return {v.name: v for v in (V2, *FIXES)}


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

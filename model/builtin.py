"""The built-in variants by name, and loading a user's variant from a file.

``--variant NAME`` names a built-in one (v2 and the fixes of ``model.fixes``);
``--variant path/to/file.py:NAME`` loads a :class:`~bufring.model.variant.Variant`
that a user's file builds with ``V2.derive(...)`` (docs/variants.md).
"""
from __future__ import annotations

import dataclasses

from bufring.model.errors import BadInput
from bufring.model.fixes import FIXES
from bufring.model.userfile import load_name
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
    path_text, value = load_name(spec, "variant")
    attr = spec.rpartition(":")[2]
    if not isinstance(value, Variant):
        raise BadInput(path_text, None, "variant",
                       f"{attr!r} is a {type(value).__name__}, not a Variant "
                       "(build it with bufring.model.variant.V2.derive(...))")
    return dataclasses.replace(value, source=f"{path_text}:{attr}")


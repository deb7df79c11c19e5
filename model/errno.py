"""Linux errno values the modelled paths return (include/uapi/asm-generic/errno*.h).

Kernel outcomes are values in the model, never Python exceptions (STYLE.md).
A command's result is ``0`` or ``-Errno.X``.
"""
from enum import IntEnum


class Errno(IntEnum):
    EPERM = 1
    ENOENT = 2
    EIO = 5
    EAGAIN = 11
    ENOMEM = 12
    EFAULT = 14
    EINVAL = 22
    EOPNOTSUPP = 95
    ENOBUFS = 105
    ECONNABORTED = 103
    ENOTCONN = 107
    ECANCELED = 125
    ERESTARTSYS = 512

    @classmethod
    def name_of(cls, ret: int) -> str:
        """``-22`` -> ``"-EINVAL"``; ``0`` -> ``"0"``; unknown values as numbers."""
        if ret == 0:
            return "0"
        try:
            return f"-{cls(-ret).name}"
        except ValueError:
            return str(ret)

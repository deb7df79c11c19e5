"""The ``bufring`` command: a thin layer over the library.

Each subcommand is a function ``cmd_NAME(args, out, err) -> int`` that parses,
calls one library function, renders, and returns the exit code; streams come in
as arguments so tests call them directly. Bad input of any kind (flags, files)
ends as one line on stderr and exit 2, from the one place below.

Exit codes: 0 all hold / conforms, 1 violated / diverged / rejected,
2 bad input or usage, 3 inconclusive.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, TextIO

from bufring.model.errors import BadInput

EXIT_OK, EXIT_FAIL, EXIT_BAD_INPUT, EXIT_INCONCLUSIVE = 0, 1, 2, 3

COMMANDS: dict[str, Callable[[argparse.Namespace, TextIO, TextIO], int]] = {}


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one :class:`BadInput` line."""

    def error(self, message: str):  # noqa: D401 - argparse's hook
        raise BadInput(self.prog, None, None, message)


def parse_number(text: str) -> int:
    """A non-negative integer in decimal or 0x hex (``--queue-depth 0x10``)."""
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a decimal or 0x hex number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


def parser() -> Parser:
    from bufring.checker import commands

    p = Parser(prog="bufring", description=(
        "Formal model and conformance checker for FUSE-over-io_uring buffer rings "
        "([PATCH v2 10/14] fuse: add io-uring buffer rings)."))
    p.add_argument("--version", action="version", version=f"bufring {version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    commands.add_all(sub)
    return p


def version() -> str:
    from importlib.metadata import PackageNotFoundError, version as dist_version
    try:
        return dist_version("bufring")
    except PackageNotFoundError:
        return "unknown"


def main(argv: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    try:
        args = parser().parse_args(argv)
        if args.command is None:
            parser().print_help(err)
            return EXIT_BAD_INPUT
        return args.run(args, out, err)
    except BadInput as e:
        text = str(e)
        print(text if text.startswith("bufring") else f"bufring: {text}", file=err)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("bufring: interrupted", file=err)
        return 130
    except BrokenPipeError:             # e.g. `bufring replay --json F | head`
        sys.stderr = open(os.devnull, "w")
        return 0


if __name__ == "__main__":
    sys.exit(main())

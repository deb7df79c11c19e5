"""The ``bufring`` command: a thin layer over the library.

Each subcommand is a module of this package with ``add_parser(sub)`` and a
function ``cmd_NAME(args, out, err) -> int`` that parses, calls one library
function, renders, and returns the exit code; streams come in as arguments so
tests call them directly. Bad input of any kind (flags, files) ends as one line
on stderr and exit 2, from the one place below.

Exit codes: 0 all hold / conforms, 1 violated / diverged / rejected,
2 bad input or usage, 3 inconclusive, 130 interrupted.
"""
from __future__ import annotations

import os
import sys
from typing import TextIO

from bufring.checker.cli import (check, explore, fuzz, gen_tests, layout, properties, prove,
                                 replay, report, variants)
from bufring.checker.cli.common import (EXIT_BAD_INPUT, EXIT_INTERRUPTED, Parser, version)
from bufring.model.errors import BadInput

COMMANDS = (check, explore, prove, fuzz, replay, layout, gen_tests, report, properties, variants)
"""The subcommand modules, in the order of ``--help``."""


def parser() -> Parser:
    """The whole ``bufring`` argument parser."""
    p = Parser(prog="bufring", description=(
        "Formal model and conformance checker for FUSE-over-io_uring buffer rings "
        "([PATCH v2 10/14] fuse: add io-uring buffer rings)."))
    p.add_argument("--version", action="version", version=f"bufring {version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(sub)
    return p


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
        return EXIT_INTERRUPTED
    except BrokenPipeError:             # e.g. `bufring replay --json F | head`
        sys.stderr = open(os.devnull, "w")
        return 0


GRACE = 0.5
"""Seconds a Ctrl-C leaves :func:`main` to stop by itself (KeyboardInterrupt) before
:func:`entry` ends the process: a z3 query holds the interpreter until it returns."""


def entry() -> None:
    """The ``bufring`` console script: :func:`main`, stopped within a second by Ctrl-C.

    Python runs its SIGINT handler only between bytecodes, so a long z3 call would
    delay it by up to a query's timeout. A wakeup file descriptor is written at the
    C level the moment the signal arrives; a watcher thread then gives ``main``
    :data:`GRACE` seconds and ends the process with exit 130 itself. Exit 130 is
    ``os._exit``: no interpreter teardown, so no finalizer noise from z3 objects.
    """
    import signal
    import threading

    reported = threading.Event()
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)

    def watch() -> None:
        while os.read(read_end, 1) != bytes([signal.SIGINT]):
            pass
        if not reported.wait(GRACE):
            print("bufring: interrupted", file=sys.stderr, flush=True)
        os._exit(EXIT_INTERRUPTED)

    interrupted = threading.Event()

    def interrupt(signum, frame):
        # Objects half-built when the signal lands (z3's) complain from __del__ while
        # the stack unwinds; that is not news to the user who pressed Ctrl-C.
        interrupted.set()
        sys.unraisablehook = lambda unraisable: None
        raise KeyboardInterrupt

    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:   # not when ignored (nohup, &)
        signal.signal(signal.SIGINT, interrupt)
        signal.set_wakeup_fd(write_end)
        threading.Thread(target=watch, name="bufring-sigint", daemon=True).start()
    try:
        code = main()
    except BaseException:
        if not interrupted.is_set():
            raise
        code = EXIT_INTERRUPTED
    if interrupted.is_set() and code != EXIT_INTERRUPTED:
        # A library caught the KeyboardInterrupt and failed otherwise (hypothesis
        # reports a half-drawn example as flaky): the user's Ctrl-C decides.
        print("bufring: interrupted", file=sys.stderr)
        code = EXIT_INTERRUPTED
    if code == EXIT_INTERRUPTED:
        reported.set()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()

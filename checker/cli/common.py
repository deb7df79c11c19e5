"""What every subcommand shares: the parser class, exit codes, number parsing and
the flags that mean the same everywhere (``--variant``, ``--json``, ``--out``).

A flag defined here is spelled, defaulted and explained once, so ``bufring
explore --help`` and ``bufring prove --help`` cannot drift apart.
"""
from __future__ import annotations

import argparse

from bufring.model.errors import BadInput

EXIT_OK, EXIT_FAIL, EXIT_BAD_INPUT = 0, 1, 2
EXIT_INTERRUPTED = 130


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


def version() -> str:
    """The installed distribution's version."""
    from importlib.metadata import PackageNotFoundError, version as dist_version
    try:
        return dist_version("bufring")
    except PackageNotFoundError:
        return "unknown"


def source_revision() -> str:
    """The bufring source this run comes from: ``git describe`` of the checkout the
    package is imported from (``--always --dirty``), else ``bufring <version>`` (an
    installed copy, or no git); never fails."""
    import subprocess
    from pathlib import Path

    here = Path(__file__).resolve().parent
    try:
        done = subprocess.run(["git", "-C", str(here), "describe", "--always", "--dirty", "--abbrev=12"],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        done = None
    if done is not None and done.returncode == 0 and done.stdout.strip():
        return done.stdout.strip()
    return f"bufring {version()}"


def add_variants(p: argparse.ArgumentParser, verb: str = "check", default: str = "default v2") -> None:
    """``--variant V`` (repeatable): a built-in name or ``path.py:NAME``."""
    p.add_argument("--variant", action="append", default=[], metavar="V",
                   help=f"variant to {verb}: a built-in name or path/to/file.py:NAME "
                        f"(repeatable; {default})")


def add_properties(p: argparse.ArgumentParser) -> None:
    """``--property ID|FILE.py:NAME`` (repeatable): a catalog id or a user's property."""
    p.add_argument("--property", action="append", default=[], metavar="ID|FILE.py:NAME",
                   help="decide only these properties: a catalog id or a user's property "
                        "path/to/file.py:NAME (docs/properties.md; repeatable; default: all)")


def add_search(p: argparse.ArgumentParser) -> None:
    """``--jobs N`` and ``--cluster ADDRESS``: who expands the explorer's frontier."""
    p.add_argument("--jobs", type=int, metavar="N",
                   help="worker processes for the explorer (default: every core this process may use)")
    p.add_argument("--cluster", metavar="ADDRESS",
                   help="run the explorer's search on a Dask distributed cluster (scheduler address, "
                        "e.g. tcp://host:8786; default: $DASK_SCHEDULER_ADDRESS; docs/explore.md)")


def search_options(args) -> tuple[int, str | None]:
    """``(jobs, cluster address)`` from ``--jobs``/``--cluster``; a bad value: BadInput.
    A cluster address is tried at once, so a wrong one fails before any work."""
    from bufring.checker.explore.parallel import default_jobs
    jobs = default_jobs() if args.jobs is None else args.jobs
    if jobs < 1:
        raise BadInput("--jobs", None, None, "must be a positive integer")
    from bufring.checker.explore.cluster import ENV_VAR, check_cluster, cluster_address
    address = cluster_address(args.cluster)
    if address is not None:
        check_cluster(address, "--cluster" if args.cluster else f"${ENV_VAR}")
    return jobs, address


def add_json(p: argparse.ArgumentParser, what: str = "print the verdicts as one JSON object") -> None:
    """``--json``: machine-readable output on stdout, tables off."""
    p.add_argument("--json", action="store_true", help=what)


def out_folder(text: str) -> str:
    """An ``--out DIR`` that can be a folder: refused before any work if it names a file."""
    from pathlib import Path
    if Path(text).exists() and not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text} exists and is not a directory")
    return text


def add_out(p: argparse.ArgumentParser, what: str = "traces", default: str = "bufring-out") -> None:
    """``--out DIR``: where the command's files go (one sub-folder per variant)."""
    p.add_argument("--out", default=default, metavar="DIR", type=out_folder,
                   help=f"where {what} go (default {default}/)")


def add_force(p: argparse.ArgumentParser) -> None:
    """``--force``: write into a non-empty ``--out`` folder bufring did not make."""
    p.add_argument("--force", action="store_true",
                   help="write into a non-empty --out folder that holds no .bufring-manifest "
                        "(its other files are left alone)")

"""The subcommand table: each command module adds its own parser.

A command module exposes ``add_parser(sub)``, which registers a subparser whose
``run`` default is its ``cmd_*`` function. Order here is the order of ``--help``.
"""
from __future__ import annotations

import importlib

COMMAND_MODULES = (
    "check_cmd",
    "explore_cmd",
    "prove_cmd",
    "fuzz_cmd",
    "replay_cmd",
    "layout_cmd",
    "gen_tests_cmd",
    "report_cmd",
    "properties_cmd",
    "variants_cmd",
)


def add_all(sub) -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(f"bufring.checker.{name}").add_parser(sub)

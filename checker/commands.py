"""The subcommand table: each command module adds its own parser.

A command module exposes ``add_parser(sub)``, which registers a subparser whose
``run`` default is its ``cmd_*`` function.
"""
from __future__ import annotations


def add_all(sub) -> None:
    from bufring.checker import replay_cmd, variants_cmd

    for module in (replay_cmd, variants_cmd):
        module.add_parser(sub)

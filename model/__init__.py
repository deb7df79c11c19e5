"""The executable model of FUSE-over-io_uring buffer rings (patch v2 10/14).

Knows nothing of engines, reports or the CLI. Entry points:
``model.system.Model`` (init_states / actions / next_state), ``model.system.next_state``,
``model.variant.V2``, ``model.traces`` (read, write, run).
"""

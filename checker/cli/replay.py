"""``bufring replay FILE...``: run traces on the model and compare their ``expect``.

Output as TRACE-FORMAT "Machine-readable replay output" says: with ``--json`` one
object per step, ``{"line", "op", "observation"}``; exit 0 when every ``expect``
matched, 1 at the first mismatch (after printing the steps up to it, and one line
on stderr naming file, line and key), 2 for invalid input with nothing on stdout.
Every file is read and run before anything is printed.
"""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from bufring.checker.cli.common import add_json
from bufring.checker.judge import InvalidRun, Judgement, checkable, judge_run, run_actions
from bufring.checker.report.render import console_for
from bufring.model.actions import OP_NAMES
from bufring.model.errno import Errno
from bufring.model.errors import BadInput
from bufring.model.traces import (ReplayResult, StepResult, action_json,
                                  observation_json, read_trace, run_trace)
from bufring.model.builtin import load_variant
from bufring.specs.catalog import BY_ID, Kind
from bufring.specs.explain import explain


def add_parser(sub) -> None:
    p = sub.add_parser("replay", help="replay traces on the model and check their expectations")
    p.add_argument("files", nargs="*", metavar="FILE", help="trace files (JSON Lines, TRACE-FORMAT v1)")
    p.add_argument("--examples", action="store_true",
                   help="replay the example traces bundled with bufring")
    p.add_argument("--variant", metavar="V",
                   help="run against this variant instead of the trace's own (name or file.py:NAME)")
    p.add_argument("--check", action="store_true",
                   help="also judge every checked property along each run and name the step "
                        "where one fails (exit 1 if one does); a trace's own "
                        "'# bufring:check: ID' line asks this for ID")
    add_json(p, "one JSON object per step on stdout")
    p.set_defaults(run=cmd_replay)


def example_paths() -> list[Path]:
    """The bundled example traces, in name order."""
    folder = resources.files("bufring.checker") / "examples"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".jsonl"))


def replay_files(paths: list[str], variant_spec: str | None) -> list[ReplayResult]:
    """Read and run every file; raises BadInput before returning anything."""
    forced = load_variant(variant_spec) if variant_spec else None
    results = []
    for path in paths:
        trace = read_trace(path)
        if forced is not None:
            variant = forced
        else:
            try:
                variant = load_variant(trace.variant or "v2")
            except BadInput as e:
                raise BadInput(trace.source, trace.header_line, "variant", e.message) from None
        results.append(run_trace(trace, variant))
    return results


def cmd_replay(args, out, err) -> int:
    paths = list(args.files) + ([str(p) for p in example_paths()] if args.examples else [])
    if not paths:
        raise BadInput("bufring replay", None, None, "give a trace FILE or --examples")
    results = replay_files(paths, args.variant)
    judged = [_judgements(r, args.check) for r in results]
    for result, judgements in zip(results, judged):
        if args.json:
            _print_json(result, out, with_file=len(results) > 1)
            for j in judgements:
                out.write(json.dumps({**({"file": result.trace.source} if len(results) > 1 else {}),
                                      "property": j.prop.id, "judged": j.judged,
                                      "step": None if j.step is None else j.step + 1,
                                      "line": None if j.step is None else result.trace.steps[j.step].line})
                          + "\n")
        else:
            _print_table(result, out)
            for j in judgements:
                out.write(_judgement_text(result, j) + "\n")
    failed = [r for r, js in zip(results, judged)
              if r.first_mismatch is not None or r.cycle_closes is False or any(j.alarming for j in js)]
    for r, js in zip(results, judged):
        if r not in failed:
            continue
        m = r.first_mismatch
        if m is None and r.cycle_closes is not False:
            for j in (j for j in js if j.alarming):
                what = ("is not reached" if j.step is None else
                        f"fails at step {j.step + 1} (line {r.trace.steps[j.step].line})")
                err.write(f"bufring: {r.trace.source}: {j.prop.id} {what}\n")
            continue
        if m is None:
            err.write(f"bufring: {r.trace.source}: cycle: the lasso's last state is not the state "
                      "where its cycle starts\n")
            continue
        key, want, have = m.mismatch
        err.write(f"bufring: {r.trace.source}:{m.step.line}: {key}: expected {json.dumps(want)}, "
                  f"observed {json.dumps(have)}\n")
    if not args.json and len(results) > 1:
        out.write(f"{len(results) - len(failed)} passed, {len(failed)} failed\n")
    return 1 if failed else 0


def _judgements(result: ReplayResult, check_all: bool) -> list[Judgement]:
    """The properties the trace's header names (and with ``--check`` every checked
    one), judged along its run on the variant it was replayed on."""
    trace = result.trace
    ids = list(trace.checks)
    props = []
    for pid in ids:     # a user property (--property FILE.py:NAME) is judged by its engines only
        if pid in BY_ID:
            props.append(BY_ID[pid])
    if check_all:
        props += [p for p in checkable() if p not in props]
    if not props or result.first_mismatch is not None:
        return []
    try:
        steps = run_actions(result.variant, trace.config, [s.action for s in trace.steps])
    except InvalidRun:
        return []
    return judge_run(props, trace.config, steps)


def _judgement_text(result: ReplayResult, j: Judgement) -> str:
    p = j.prop
    if not j.judged:
        return (f"{p.id}: a graph property ({p.meaning}); a run alone does not decide it: "
                "bufring explore does")
    if j.step is None:
        return f"{p.id}: {'NOT reached' if p.kind is Kind.SOMETIMES else 'holds'} along this run"
    line = result.trace.steps[j.step].line
    verb = "reached" if p.kind is Kind.SOMETIMES else "fails"
    tail = " (informational)" if p.kind is Kind.INFORMATIONAL else ""
    why = ""
    if p.kind is not Kind.SOMETIMES:
        t = result.trace
        why = explain(p, t.config, run_actions(result.variant, t.config, [s.action for s in t.steps]))
    return f"{p.id}{tail}: {verb} at step {j.step + 1} (line {line})" + (f": {why}" if why else "")


def _print_json(result: ReplayResult, out, with_file: bool) -> None:
    for r in result.results:
        op = OP_NAMES[type(r.step.action)]
        obj = {"line": r.step.line, "op": op, "observation": observation_json(op, r.observation)}
        if with_file:
            obj = {"file": result.trace.source, **obj}
        out.write(json.dumps(obj) + "\n")


def _args_text(action) -> str:
    """The step's arguments as ``name=value`` (addresses and flags in hex)."""
    parts = []
    for name, value in action_json(action).items():
        if name == "op":
            continue
        if isinstance(value, list):
            value = f"{value[0]:#x}+{value[1]:#x}"
        elif name == "flags":
            value = f"{value:#x}"
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        parts.append(f"{name}={value}")
    return " ".join(parts)


def _result_text(r: StepResult) -> str:
    o = r.observation
    parts = []
    if o.ret is not None:
        parts.append(f"ret={Errno.name_of(o.ret)}")
    if o.ent is not None:
        parts.append(f"ent={o.ent}")
    if o.via is not None:
        parts.append(f"via={o.via}" + (" queued" if o.queued else ""))
    if o.pending:
        parts.append("pending")
    for d in o.dispatched:
        buf = "" if d.buf_id is None else f" buf={d.buf_id}"
        parts.append(f"-> ent {d.ent} unique {d.unique}{buf} payload@{d.payload_addr:#x} "
                     f"hdr@{d.header_addr:#x}")
    if o.recycled:
        parts.append("recycled " + ",".join(map(str, o.recycled)))
    if o.warnings:
        parts.append("WARN " + ",".join(o.warnings))
    return "; ".join(parts)


def _print_table(result: ReplayResult, out) -> None:
    from rich.table import Table
    from rich.text import Text

    t = result.trace
    table = Table(title=f"{t.source}  (variant {t.variant or 'v2'}, {len(t.steps)} steps)",
                  title_justify="left")
    for col in ("line", "op"):
        table.add_column(col, no_wrap=True)
    for col in ("arguments", "observed", "expect"):
        table.add_column(col, overflow="fold")
    for r in result.results:
        op = OP_NAMES[type(r.step.action)]
        if r.mismatch is None:
            status = Text("ok" if r.step.expect else "-", style="green" if r.step.expect else "dim")
            table.add_row(str(r.step.line), op, _args_text(r.step.action), _result_text(r), status)
        else:
            key, want, have = r.mismatch
            status = Text(f"MISMATCH {key}: expected {json.dumps(want)}, observed {json.dumps(have)}",
                          style="bold red")
            table.add_row(str(r.step.line), op, _args_text(r.step.action), _result_text(r), status,
                          style="red")
    console_for(out).print(table)

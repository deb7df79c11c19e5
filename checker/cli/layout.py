"""``bufring layout``: will the kernel accept my REGISTER layout, and where is everything?

Models the first REGISTER of queue 0 (the one that creates it) with the
library's :func:`bufring.model.layout.layout`. Exit 0 accepted, 1 rejected, 2 bad
input (one line on stderr, nothing on stdout). docs/layout.md explains the output.
"""
from __future__ import annotations

import argparse
import json

from bufring.checker.cli.common import EXIT_FAIL, EXIT_OK, add_json, parse_number
from bufring.checker.report.render import console_for
from bufring.model.cint import U16, U32, U64, mask
from bufring.model.layout import Layout, Mode, layout
from bufring.model.uapi import DEFAULT_MAX_PAYLOAD_SZ, FUSE_URING_BUFRING, REQ_HEADER_SZ
from bufring.model.builtin import load_variant

SHOWN_HEAD, SHOWN_TAIL = 5, 3     # rows of a long list shown before and after the ellipsis


def c_number(bits: int):
    """An argparse type: ``parse_number`` that also rejects values above u<bits>."""
    def parse(text: str) -> int:
        value = parse_number(text)
        if value > mask(bits):
            raise argparse.ArgumentTypeError(
                f"{text!r} does not fit u{bits} (at most {mask(bits)} = {mask(bits):#x})")
        return value
    parse.__name__ = f"u{bits}"
    return parse


def region(text: str) -> tuple[int, int]:
    """An argparse type: ``BASE:LEN``, each a u64 in decimal or 0x hex."""
    base, sep, length = text.partition(":")
    if not sep or not base or not length or ":" in length:
        raise argparse.ArgumentTypeError(f"{text!r} is not BASE:LEN (e.g. 0x10000:4608)")
    u64 = c_number(U64)
    try:
        return u64(base), u64(length)
    except argparse.ArgumentTypeError as e:
        raise argparse.ArgumentTypeError(f"{text!r}: {e}") from None


def add_parser(sub) -> None:
    p = sub.add_parser("layout", help="check a REGISTER layout: accepted or errno, buffers, "
                                      "header slots, unused bytes, warnings")
    p.add_argument("--queue-depth", type=c_number(U16), required=True, metavar="N",
                   help="init.queue_depth (u16): number of header slots / entries")
    p.add_argument("--buf-size", type=c_number(U32), required=True, metavar="N",
                   help="init.buf_size (u32): bytes per payload buffer")
    p.add_argument("--headers", type=region, required=True, metavar="BASE:LEN",
                   help="iov[0]: the headers region")
    p.add_argument("--payload", type=region, required=True, metavar="BASE:LEN",
                   help="iov[1]: the payload region")
    p.add_argument("--flags", type=c_number(U64), default=FUSE_URING_BUFRING, metavar="F",
                   help="cmd_req.flags (u64); default 1 = FUSE_URING_BUFRING, 0 = legacy")
    p.add_argument("--buf-index", type=c_number(U16), default=0, metavar="I",
                   help="sqe->buf_index (u16): this entry's header slot; default 0")
    p.add_argument("--max-payload-sz", type=c_number(U64), default=DEFAULT_MAX_PAYLOAD_SZ,
                   metavar="N", help=f"ring->max_payload_sz; default {DEFAULT_MAX_PAYLOAD_SZ}")
    p.add_argument("--variant", default="v2", metavar="V",
                   help="whose rules to apply (name or path/to/file.py:NAME); default v2")
    add_json(p, "print one JSON object")
    p.set_defaults(run=cmd_layout)


def cmd_layout(args, out, err) -> int:
    variant = load_variant(args.variant)
    result = layout(queue_depth=args.queue_depth, buf_size=args.buf_size,
                    headers=args.headers, payload=args.payload, flags=args.flags,
                    buf_index=args.buf_index, max_payload_sz=args.max_payload_sz,
                    variant=variant)
    if args.json:
        out.write(json.dumps(result.to_json()) + "\n")
    else:
        _print_summary(result, out)
    return EXIT_OK if result.accepted else EXIT_FAIL


# --- the readable summary -------------------------------------------------------------

def _elided(rows: list, head: int = SHOWN_HEAD, tail: int = SHOWN_TAIL) -> list:
    """``rows``, or its first and last few with None where the rest is left out."""
    if len(rows) <= head + tail + 1:
        return rows
    return rows[:head] + [None] + rows[-tail:]


def _region(base: int, length: int) -> str:
    return f"[{base:#x}, {base + length:#x})  {length} bytes"


def _print_summary(r: Layout, out) -> None:
    from rich.markup import escape
    from rich.table import Table

    con = console_for(out)
    p = r.values
    con.print(f"[bold]bufring layout[/]  variant {r.variant}, first REGISTER of qid 0 "
              f"({r.mode.value} mode, flags {p.flags:#x}), max_payload_sz {p.max_payload_sz}")
    con.print(f"  queue_depth {p.queue_depth}  buf_size {p.buf_size}  buf_index {p.buf_index}")
    con.print(f"  headers {_region(p.headers_base, p.headers_len)}"
              + ("" if r.headers_size in (None, p.headers_len) else f", imported {r.headers_size}"))
    con.print(f"  payload {_region(p.payload_base, p.payload_len)}"
              + ("" if r.payload_size in (None, p.payload_len) else f", imported {r.payload_size}"))
    if r.accepted:
        con.print(f"[bold green]ACCEPTED[/]  ret 0: all {len(r.checked)} checks of this path pass")
    else:
        rule = r.rule
        con.print(f"[bold red]REJECTED[/]  ret {r.ret} (-{rule.errno.name})  by [bold]{rule.name}[/]")
        con.print(f"  {escape(rule.text)}")
        con.print(f"  {rule.kernel}(), SEMANTICS {rule.section}; "
                  f"check {len(r.checked)} of the path, the {len(r.checked) - 1} before it pass")
        if r.queue_created:
            con.print(f"  [yellow]queue 0 was still created in {r.mode.value} mode with this layout[/], "
                      "and later REGISTERs of the queue join it as is (SEMANTICS §3.3)")
    if r.accepted and r.mode is Mode.BUFRING:
        con.print(f"nbufs {r.nbufs}; this entry (buf_index {p.buf_index}) uses header slot "
                  f"{r.header_slots[p.buf_index]:#x}")
        bufs = Table(title=f"buffers ({r.nbufs})", title_justify="left")
        for col in ("id", "start", "end"):
            bufs.add_column(col, justify="right")
        for row in _elided(list(enumerate(r.buffers))):
            bufs.add_row(*(("…", "…", "…") if row is None else
                           (str(row[0]), f"{row[1][0]:#x}", f"{row[1][1]:#x}")))
        slots = Table(title=f"header slots ({len(r.header_slots)})", title_justify="left")
        for col in ("ent id", f"address ({REQ_HEADER_SZ} bytes each)"):
            slots.add_column(col, justify="right")
        for row in _elided(list(enumerate(r.header_slots))):
            slots.add_row(*(("…", "…") if row is None else (str(row[0]), f"{row[1]:#x}")))
        con.print(bufs)
        con.print(slots)
    elif r.accepted:
        ent = r.ent_json()
        con.print(f"legacy entry: header at {ent['header']:#x}, payload imports "
                  f"[{ent['payload'][0]:#x}, {ent['payload'][1]:#x})")
    if r.unused is not None:
        _print_unused(r, con)
    if r.warnings:
        warns = Table(title=f"warnings ({len(r.warnings)})", title_justify="left")
        warns.add_column("code", style="yellow")
        warns.add_column("what it means", overflow="fold")
        for w in r.warnings:
            warns.add_row(w.code, escape(w.message))
        con.print(warns)
    else:
        con.print("no warnings")


def _print_unused(r: Layout, con) -> None:
    """Registered bytes the kernel never uses, one row per cause that has any."""
    from rich.table import Table

    u = r.unused
    last = "last slot" if r.mode is Mode.BUFRING else "one header"
    after = "after the last buffer" if r.mode is Mode.BUFRING else "after max_payload_sz"
    rows = (("headers", u.headers_trailing, f"after the {last}"),
            ("headers", u.headers_capped, "cut off by MAX_RW_COUNT"),
            ("payload", u.payload_trailing, after),
            ("payload", u.payload_capped, "cut off by MAX_RW_COUNT"),
            ("payload", u.buffer_tails, "buffer tails past max_payload_sz"))
    if u.total == 0:
        con.print("unused bytes: none")
        return
    table = Table(title=f"unused bytes ({u.total})", title_justify="left")
    for col, justify in (("region", "left"), ("bytes", "right"), ("where", "left")):
        table.add_column(col, justify=justify)
    for region_name, count, where in rows:
        if count:
            table.add_row(region_name, str(count), where)
    con.print(table)

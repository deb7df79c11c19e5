"""REPORT.md: the review a person reads, rebuilt from ``results.json`` alone.

``check`` saves its verdicts as ``results.json`` and calls :func:`write_report`;
``bufring report DIR`` calls it again on the saved results. Everything in the
report comes from the results and the trace files beside them (re-run on the
model for the pictures), so the two always agree.
"""
from __future__ import annotations

import json
from pathlib import Path

from bufring.checker.judge import first_shown, run_actions
from bufring.checker.report.pictures import ring_table, sequence_diagram
from bufring.model.errors import BadInput
from bufring.model.traces import read_trace
from bufring.model.builtin import load_variant
from bufring.specs.catalog import BY_ID, Kind
from bufring.specs.explain import explain
from bufring.specs.user import load_property
from bufring.model.variant import Variant

RESULTS = "results.json"

FOR_WHOM = {
    "kernel memory safety": "the kernel and every user of the machine: an address outside a "
                            "registered region, undefined behaviour, or a buffer in two requests at once",
    "data integrity for the server": "the FUSE server: two requests may share a buffer or a header "
                                     "slot, or a buffer the server was given is not what the kernel uses",
    "liveness / latency": "applications: a request waits (or waits forever) while resources are idle",
    "contract gap": "server authors: the code enforces less than its comments or documentation say",
}


def load_results(folder: str | Path) -> dict:
    path = Path(folder) / RESULTS
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(str(path), None, None, "no such file (run bufring check --out DIR first)") from None
    except (OSError, ValueError) as e:
        raise BadInput(str(path), None, None, f"cannot read results: {e}") from None


def save_results(folder: str | Path, results: dict) -> Path:
    path = Path(folder) / RESULTS
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(RESULTS + ".tmp")
    tmp.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def _rel(path: str, folder: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(folder.resolve()))
    except ValueError:
        return path


def _coverage(v: dict) -> str:
    cov = v.get("coverage", {})
    parts = []
    if "scopes" in cov:
        states = sum(s["states"] for s in cov["scopes"])
        parts.append(f"explore: {len(cov['scopes'])} scopes, {states:,} states")
    if "widths" in cov:
        parts.append(f"prove: widths {cov['widths']}, {cov.get('encoding', '')}".rstrip(", "))
    if "runs" in cov:
        parts.append(f"fuzz: {cov['runs']} runs, {cov.get('steps', '?')} steps")
    return "; ".join(parts) or "-"


def properties_of(results: dict) -> dict:
    """Property by id: the catalog's, and the user properties the check decided
    (``user_properties``: their FILE.py:NAME, loaded again as variants are)."""
    return {**BY_ID, **{p.id: p for p in map(load_property, results.get("user_properties", []))}}


def render_report(results: dict, folder: str | Path) -> str:
    """The Markdown text of REPORT.md for saved ``results`` in ``folder``."""
    folder = Path(folder)
    props = properties_of(results)
    variants = results["variants"]
    main = variants[0]
    lines = [f"# bufring review of {main['variant']}: {main['doc']}", ""]
    lines += [f"Made by `{results['command']}` with bufring {results['bufring']} "
              f"(source {results.get('commit', 'unknown')}) in "
              f"{results['seconds']:.0f} s ({', '.join(f'{e} {s:.0f} s' for e, s in main['seconds'].items())}). "
              "Every trace named here replays with `bufring replay`; the regression tests are in "
              f"`{results.get('tests', 'tests/')}`.", ""]
    lines += _summary(main, props)
    lines += _causes(main)
    if len(variants) > 1:
        lines += _variant_table(variants)
    violated = [v for v in main["verdicts"] if v["verdict"] == "violated" and v["kind"] != "informational"]
    info = [v for v in main["verdicts"] if v["kind"] == "informational" and v["verdict"] == "violated"]
    variant = load_variant(main.get("source", main["variant"]) if main.get("source", "built-in") != "built-in"
                           else main["variant"])
    if violated or info:
        lines += ["## What breaks, and how", ""]
        for v in violated + info:
            lines += _finding(v, variant, folder, results, props)
    holds = [v for v in main["verdicts"] if v["verdict"] in ("proved", "holds")]
    if holds:
        lines += ["## What holds, and how far that goes", "",
                  "| property | verdict | coverage |", "|---|---|---|"]
        lines += [f"| `{v['property']}` | {v['verdict']} | {_coverage(v)} |" for v in holds]
        lines.append("")
    others = [v for v in main["verdicts"] if v["verdict"] in ("vacuous", "unknown", "unreached")]
    if others:
        lines += ["## Not decided", ""]
        lines += [f"- `{v['property']}`: {v['verdict']}: {v['message']}" for v in others]
        lines.append("")
    if len(variants) > 1:
        lines += _fixes(variants, props)
    lines += _choices()
    return "\n".join(lines) + "\n"


def _shown(verdict: str, kind: str) -> str:
    """A verdict cell: "violated" in bold, except an informational property's, which
    is a remark on behaviour, not a defect."""
    if verdict == "violated":
        return "violated (informational)" if kind == "informational" else "**violated**"
    return verdict


def _summary(main: dict, props: dict) -> list[str]:
    out = ["## Summary", "", "| property | verdict | severity | engines | coverage |", "|---|---|---|---|---|"]
    for v in main["verdicts"]:
        prop = props[v["property"]]
        sev = prop.severity.value if prop.severity else "-"
        engines = ", ".join(f"{e}: {s}" for e, s in v["engines"].items())
        verdict = _shown(v["verdict"], v["kind"])
        out.append(f"| `{v['property']}` | {verdict} | {sev} | {engines} | {_coverage(v)} |")
    return out + [""]


def _place(place: str) -> str:
    return "prove (all values, 32 bits)" if place == "prove" else f"scope `{place}`"


def _causes(main: dict) -> list[str]:
    """Violations grouped by root cause, each with the fix that removes it (checker.causes)."""
    causes = main.get("causes")
    if not causes:
        return []
    out = ["## Root causes and the fixes that remove them", "",
           "Each cause is a fix variant that, run again by the engine that found a violation on the "
           "property and in the place (scope or 32-bit proof) where it was found, finds none "
           "(`vacuous`: on the fix, that scope never reaches what the property needs, its premise or "
           "a witness it needs).", "",
           "| cause: the fix that removes it | properties it breaks | verified: verdict on the fix |",
           "|---|---|---|"]
    for c in causes["causes"]:
        props = ", ".join(f"`{p}`" for p in c["removes"])
        checks = "; ".join(f"`{p}`: " + ", ".join(f"{_place(pl)} {st}" for pl, st in where.items())
                           for p, where in c["removes"].items())
        out.append(f"| `{c['fix']}`: {c['doc']} | {props} | {checks} |")
    out.append("")
    for pid, places in causes.get("unexplained", {}).items():
        out.append(f"- `{pid}` in {', '.join(_place(p) for p in places)}: no single fix removes it "
                   "(see the variant table of `--fixes` for `all-fixes`).")
    if causes.get("unexplained"):
        out.append("")
    return out


def _fixes_of(main: dict, pid: str) -> list[tuple[str, list[str]]]:
    """The causes of ``pid``: (fix, places it removes ``pid`` from)."""
    return [(c["fix"], list(c["removes"][pid])) for c in main.get("causes", {}).get("causes", [])
            if pid in c["removes"]]


def _variant_table(variants: list) -> list[str]:
    names = [v["variant"] for v in variants]
    out = ["## Property by variant", "", "| property | " + " | ".join(names) + " |",
           "|---|" + "---|" * len(names)]
    table = {v["variant"]: {x["property"]: x["verdict"] for x in v["verdicts"]} for v in variants}
    for prop in [x["property"] for x in variants[0]["verdicts"]]:
        cells = []
        for n in names:
            cells.append(_shown(table[n].get(prop, "-"), BY_ID[prop].kind.value))
        out.append(f"| `{prop}` | " + " | ".join(cells) + " |")
    return out + [""]


def _finding(v: dict, variant: Variant, folder: Path, results: dict, props: dict) -> list[str]:
    prop = props[v["property"]]
    sev = prop.severity.value if prop.severity else "informational"
    trace = v.get("trace")
    why = _why_of(prop, trace, variant) if trace else ""
    out = [f"### `{prop.id}`: {prop.title}", "",
           f"*{prop.kind.value}; {sev}*" + (f": matters to {FOR_WHOM[sev]}." if sev in FOR_WHOM else "."),
           "", f"**Property.** {prop.meaning}.", "",
           f"**What fails.** {why + '. ' if why else ''}{v['message']}.", "",
           (f"**In the patch.** {prop.source}; see `{prop.patch_lines}`." if prop.patch_lines
            else f"**In the patch.** {prop.source} (a user property, `{prop.origin}`)."), ""]
    if trace:
        out += _width(v, folder, results, variant)
        rel = _rel(trace, folder)
        out += [f"**Shortest run** ({v.get('length')} steps): `{rel}`; reproduce with "
                f"`{_replay_command(results, rel)}`.", "", "```mermaid", sequence_diagram(trace, variant), "```", "",
                f"The ring after each step{_counters(trace)}:", "", ring_table(trace, variant), ""]
    runs = v.get("coverage", {}).get("violated_in", {})
    others = [f"`{n}` ({x['length']} steps)" for n, x in sorted(runs.items(), key=lambda kv: kv[1]["length"])
              if n != v["coverage"].get("scope")]
    if others:
        out += ["**Also violated in scopes** " + ", ".join(others) + ".", ""]
    also = [(n, x["length"], _rel(x["trace"], folder), _why_of(prop, x["trace"], variant))
            for n, x in sorted(runs.items(), key=lambda kv: kv[1]["length"]) if x.get("trace")]
    if also:
        out += ["**Other runs that break it** (another scope's shortest run, kept where the failure "
                "reads differently or another cause is at work; each replays):", ""]
        out += [f"- scope `{name}`, {length} steps, `{rel}`: {text}" for name, length, rel, text in also]
        out.append("")
    fixes = _fixes_of(results["variants"][0], prop.id)
    if fixes:
        many = len(fixes) > 1
        out += [(f"**Causes.** {len(fixes)} causes break it: " if many else "**Cause.** ")
                + "; ".join(f"`{fix}` removes it in {', '.join(_place(p) for p in places)}"
                            for fix, places in fixes) + " (verified; see the cause table).", ""]
    test = results.get("tests")
    if test and trace and prop.origin == "catalog":        # gen-tests covers catalog properties
        names = " and ".join(f"`{fix}`" for fix, _ in fixes) or "a variant that fixes the property"
        out += [f"**Regression test.** `{test}`, test named after `{prop.id}`: it fails on "
                f"`{variant.name}` and passes on {names}"
                + (" (each on the runs it removes)" if len(fixes) > 1 else "") + ".", ""]
    return out


def _power(n: int, bits: int) -> str:
    """A counter value as a reader checks it: ``2^32-3`` near the wrap, else decimal."""
    below = (1 << bits) - n
    return f"2^{bits}-{below}" if 0 < below <= 16 and bits > 8 else str(n)


def _counters(trace: str) -> str:
    cfg = read_trace(trace).config
    if cfg.counter_bits >= 32 and cfg.counter_start == 0:
        return ""
    if cfg.counter_bits >= 32:
        return f" (32-bit counters, as the kernel's, starting at {_power(cfg.counter_start, 32)})"
    return (f" (head and tail are {cfg.counter_bits}-bit counters starting at "
            f"{_power(cfg.counter_start, cfg.counter_bits)}, so they wrap at {1 << cfg.counter_bits}; "
            "the kernel's are 32-bit)")


def _width(v: dict, folder: Path, results: dict, variant) -> list[str]:
    """Honest width: a run found with counters narrower than the kernel's says so,
    and names the 32-bit run next to it when an engine found one."""
    t = read_trace(v["trace"])
    cfg = t.config
    wraps = first_shown(BY_ID["w.counter_wrap"], variant, cfg, [s.action for s in t.steps]) is not None
    if cfg.counter_bits >= 32 or not (wraps or cfg.counter_start):
        return []      # the width shows only where head or tail come near the wrap
    text = (f"**Counter width.** This run was found with {cfg.counter_bits}-bit counters starting at "
            f"{cfg.counter_start} (the explorer and fuzzer narrow head and tail so that they wrap "
            "within a few steps; the kernel's are 32-bit unsigned ints).")
    wide = v.get("coverage", {}).get("at_32_bits")
    if wide:
        rel = _rel(wide["trace"], folder)
        text += (f" The same property fails at 32 bits with counters starting at "
                 f"{_power(wide['counter_start'], 32)}: `{rel}` ({wide['length']} steps, found by "
                 f"{', '.join(wide['engines'])}); reproduce with `{_replay_command(results, rel)}`.")
    elif v.get("engines", {}).get("prove") not in (None, "violated"):
        text += f" prove says `{v['engines']['prove']}` at 32 bits."
    else:
        text += " No engine produced a 32-bit run of it."
    return [text, ""]


def _replay_command(results: dict, rel: str) -> str:
    """``bufring replay`` of a trace, spelled for the folder ``check`` was run from."""
    base = Path(results.get("out", "."))
    return f"bufring replay --check {(base / rel).as_posix()}"


def _why_of(prop, trace: str, variant: Variant) -> str:
    t = read_trace(trace)
    return explain(prop, t.config, run_actions(variant, t.config, [s.action for s in t.steps]))


def _fixes(variants: list, props: dict) -> list[str]:
    base = {x["property"]: x["verdict"] for x in variants[0]["verdicts"]}
    out = ["## Fix variants", "",
           "Each fix is the smallest change for the properties it names; `all-fixes` applies all. "
           "\"Fixes\" lists properties violated on the base and not violated with the fix; \"breaks\" "
           "lists any that held on the base and do not with the fix.", "",
           "| variant | what it changes and costs | fixes | breaks |", "|---|---|---|---|"]
    for v in variants[1:]:
        mine = {x["property"]: x["verdict"] for x in v["verdicts"]}
        fixed = [p for p, s in base.items() if s == "violated" and mine.get(p) != "violated"
                 and props[p].kind is not Kind.INFORMATIONAL]
        broke = [p for p, s in base.items() if s in ("holds", "proved") and mine.get(p) not in ("holds", "proved")]
        out.append(f"| `{v['variant']}` | {v['doc']} | {', '.join(f'`{p}`' for p in fixed) or '-'} | "
                   f"{', '.join(f'`{p}`' for p in broke) or 'nothing'} |")
    return out + [""]


def _choices() -> list[str]:
    return ["## Modelling choices and abstractions", "",
            "The full table, with reasons, is docs/modelling.md in the bufring repository. In short: "
            "the model follows the patch's C code where a description of it differs; counters are "
            "3 bits wide in the explorer's scopes (32 in `prove`); user memory never faults; teardown, "
            "abort and cancel are not modelled; requests before the ring is ready go over /dev/fuse and "
            "are not followed; the server only commits uniques it has read.", ""]


def write_report(folder: str | Path, results: dict | None = None) -> Path:
    """Write ``folder/REPORT.md`` from ``results`` (or from ``folder/results.json``)."""
    folder = Path(folder)
    results = load_results(folder) if results is None else results
    path = folder / "REPORT.md"
    tmp = path.with_name("REPORT.md.tmp")
    tmp.write_text(render_report(results, folder), encoding="utf-8")
    tmp.replace(path)
    return path

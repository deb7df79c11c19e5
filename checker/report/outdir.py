"""Output folders bufring writes into, safely.

A folder given to ``--out`` may hold files bufring did not write. bufring deletes
only what it wrote: each run lists its files in ``.bufring-manifest`` (one path per
line, relative to the folder); the next run into the same folder first deletes the
files listed there (so no stale trace of an earlier run survives) and nothing else.
A non-empty folder without a manifest is refused unless ``--force`` is given; with
``--force`` its files are left alone (those bufring overwrites become its own).

Every check here runs before any work, so a bad ``--out`` costs nothing.
"""
from __future__ import annotations

from pathlib import Path

from bufring.model.errors import BadInput

MANIFEST = ".bufring-manifest"


def claim(folder: str | Path, flag: str = "--out", force: bool = False) -> Path:
    """Check that ``folder`` can take a run's output; raises BadInput (one line) if not."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise BadInput(flag, None, None, f"{folder} exists and is not a directory")
    if folder.is_dir() and not force and not (folder / MANIFEST).is_file() and any(folder.iterdir()):
        raise BadInput(flag, None, None, f"{folder} is not empty and holds no {MANIFEST} (bufring did "
                                         "not write it); give an empty or new folder, or --force")
    return folder


def check_file_target(path: str | Path, flag: str) -> Path:
    """A flag naming a file to write (``--junit FILE``) must not name a folder."""
    path = Path(path)
    if path.is_dir():
        raise BadInput(flag, None, None, f"{path} is a directory; give a file name")
    return path


def previous_files(folder: Path) -> list[Path]:
    """The files the last run listed in the manifest (only those inside ``folder``)."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return []
    root = folder.resolve()
    out = []
    for line in manifest.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        path = (folder / line).resolve()
        if root in path.parents:
            out.append(path)
    return out


def clear_previous(folder: Path) -> None:
    """Delete the files of the previous run (see :func:`previous_files`), then any
    folder left empty by that. The manifest itself stays until the run writes its
    own, so an interrupted run leaves a folder bufring still recognises."""
    dirs = set()
    for path in previous_files(folder):
        if path.is_file() or path.is_symlink():
            path.unlink()
            dirs.update(p for p in path.parents if folder.resolve() in p.parents)
    for d in sorted(dirs, key=lambda p: len(p.parts), reverse=True):
        if d.is_dir() and not any(d.iterdir()):
            d.rmdir()


def write_manifest(folder: Path, files) -> Path:
    """List ``files`` (paths inside ``folder``) as this run's, sorted, one per line."""
    root = folder.resolve()
    rel = sorted({Path(f).resolve().relative_to(root).as_posix() for f in files})
    path = folder / MANIFEST
    path.write_text("".join(f"{r}\n" for r in rel), encoding="utf-8")
    return path

"""Reversible source edits: markers in each file's comment syntax, restore by hash, and journal recovery."""

from __future__ import annotations

import hashlib
import json
import re
import signal
import threading
import uuid
from pathlib import Path
from types import FrameType
from typing import Any

from ..errors import SnowstackError

JOURNAL_FOLDER = "bench-edits"
# A small pure-Python wheel nothing in the stack uses: adding it changes the requirements, not the service.
BENCH_PACKAGE = "tomli-w==1.2.0"
MARKER_PREFIX = "snowstack.bench"  # dots only: a marker must also be a valid PEP 440 local version


def new_marker() -> str:
    return f"{MARKER_PREFIX}.{uuid.uuid4().hex[:10]}"


def edited_source(path: Path, original: str, marker: str) -> str:
    """The source with one line added that carries `marker`, in the file's own comment syntax.

    A Python module that defines `__version__` gets a PEP 440 local version instead, so the version string the
    service serves shows the edit (what the dev-sync probe looks for).
    """
    suffix = path.suffix.lower()
    body = original if original.endswith("\n") or not original else original + "\n"
    if suffix == ".py" and re.search(r"^__version__\s*=", original, re.MULTILINE):
        line = f'__version__ = f"{{__version__}}+{marker}"  # reverted by invoke bench-rebuild'
    elif suffix in (".ts", ".tsx", ".js", ".mjs", ".cjs", ".jsx"):
        line = f"// {marker}: reverted by invoke bench-rebuild"
    elif suffix in (".html", ".htm", ".svg", ".xml", ".md"):
        line = f"<!-- {marker}: reverted by invoke bench-rebuild -->"
    elif suffix in (".css", ".scss"):
        line = f"/* {marker}: reverted by invoke bench-rebuild */"
    else:
        line = f"# {marker}: reverted by invoke bench-rebuild"
    return body + line + "\n"


def edited_requirements(original: str, marker: str) -> str:
    """Requirements with a harmless pinned package added; the marker makes every run's file (and cache key) new."""
    body = original if original.endswith("\n") or not original else original + "\n"
    return body + f"# {marker}: reverted by invoke bench-rebuild\n{BENCH_PACKAGE}\n"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class SourceEdit:
    """Writes an edit and always restores the original bytes, verified by hash.

    Restores on normal exit, exceptions, Ctrl-C and SIGTERM/SIGHUP (turned into KeyboardInterrupt while the edit is
    in place); signals are held off during the restore itself. A journal (original bytes + both hashes) in the
    state folder lets `recover_edits` undo an edit whose process was killed outright.
    """

    def __init__(self, path: Path, edited: str, journal: Path) -> None:
        self.path, self.edited, self.journal = path, edited.encode(), journal
        self.original = b""
        self._handlers: dict[int, Any] = {}
        key = sha256(str(path.resolve()).encode())[:16]
        self._entry, self._backup = journal / f"{key}.json", journal / f"{key}.orig"

    def __enter__(self) -> SourceEdit:
        self.original = self.path.read_bytes()
        self.journal.mkdir(parents=True, exist_ok=True)
        self._backup.write_bytes(self.original)
        entry = {"path": str(self.path.resolve()), "original": sha256(self.original), "edited": sha256(self.edited)}
        self._entry.write_text(json.dumps(entry))
        self._install_handlers()
        self.path.write_bytes(self.edited)
        return self

    def __exit__(self, *exc: object) -> None:
        self.restore()

    def restore(self) -> None:
        blocked = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
        in_main = threading.current_thread() is threading.main_thread()
        if in_main:
            signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
        try:
            current = self.path.read_bytes() if self.path.exists() else b""
            if current != self.original:
                if sha256(current) != sha256(self.edited):
                    raise SnowstackError(f"{self.path} changed during the bench (not by it): left as is; its original is in {self._backup}")
                self.path.write_bytes(self.original)
            if sha256(self.path.read_bytes()) != sha256(self.original):
                raise SnowstackError(f"restoring {self.path} failed: its hash differs; the original is in {self._backup}")
            self._entry.unlink(missing_ok=True)
            self._backup.unlink(missing_ok=True)
        finally:
            self._restore_handlers()
            if in_main:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, blocked)

    def _install_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGHUP):
            self._handlers[sig] = signal.signal(sig, _interrupt)

    def _restore_handlers(self) -> None:
        for sig, handler in self._handlers.items():
            signal.signal(sig, handler)
        self._handlers.clear()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def recover_edits(journal: Path) -> list[str]:
    """Undo edits a killed bench left behind (from the journal); one line per file about what was done."""
    notes = []
    for entry_file in sorted(journal.glob("*.json")) if journal.is_dir() else []:
        entry = json.loads(entry_file.read_text())
        path, backup = Path(entry["path"]), entry_file.with_suffix(".orig")
        current = sha256(path.read_bytes()) if path.exists() else ""
        if current == entry["edited"] and backup.exists():
            path.write_bytes(backup.read_bytes())
            notes.append(f"restored {path} (a bench was interrupted before it could)")
        elif current != entry["original"]:
            notes.append(f"{path} differs from before an interrupted bench; not touched (its original: {backup})")
            continue
        entry_file.unlink()
        backup.unlink(missing_ok=True)
    return notes

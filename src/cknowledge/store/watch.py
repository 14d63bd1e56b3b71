"""Change notification for long-lived processes (Linux inotify), so that a repeated
``find`` need not stat every meta file.

The index is kept fresh by a full stat scan (see ``index.py``). A process that
queries more than once (a Python program calling ``access()``, ``ck serve``) gets a
:class:`Watcher` from its second scan on: the watches are placed *before* that full
scan, so nothing that changes after the scan can be missed, and later scans look only
at the folders and entries the kernel reported as changed. When watches cannot be
placed (not Linux, the user's inotify limit reached) or the event queue overflows,
the scan falls back to stat-ing everything, which is always correct.
"""

from __future__ import annotations

import ctypes
import os
import struct
import sys

IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE = 0x2, 0x4, 0x8
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200
IN_DELETE_SELF, IN_MOVE_SELF, IN_Q_OVERFLOW, IN_IGNORED = 0x400, 0x800, 0x4000, 0x8000
IN_ONLYDIR, IN_NONBLOCK, IN_CLOEXEC = 0x01000000, 0o4000, 0o2000000
MASK = (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE
        | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
_EVENT = struct.Struct("iIII")

Key = tuple[str, ...]  # (repo,) | (repo, automation) | (repo, automation, name)


class Watcher:
    """inotify watches on repo roots, automation folders and entry folders."""

    def __init__(self) -> None:
        if not sys.platform.startswith("linux"):
            raise OSError("inotify needs Linux")
        # the C library is already loaded into the interpreter: no find_library (it runs
        # ldconfig in a subprocess)
        libc = ctypes.CDLL(None, use_errno=True)
        self._add = libc.inotify_add_watch
        self._add.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self.fd = fd
        self.keys: dict[int, Key] = {}
        self.covered: set[tuple[str, str]] = set()  # (repo, automation) fully watched
        self.roots: set[str] = set()
        self.dirty: set[Key] = set()
        self.overflow = False

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def watch(self, path: str, key: Key) -> None:
        wd = self._add(self.fd, os.fsencode(path), MASK)
        if wd < 0:
            err = ctypes.get_errno()
            if err in (2, 20):  # ENOENT, ENOTDIR: it vanished; the scan handles that
                return
            raise OSError(err, f"inotify_add_watch {path}: {os.strerror(err)}")
        self.keys[wd] = key

    def watch_entry(self, folder: str, key: Key) -> None:
        self.watch(folder, key)
        legacy = os.path.join(folder, ".cm")
        if os.path.isdir(legacy):
            self.watch(legacy, key)

    def drain(self) -> None:
        """Read all queued events into ``self.dirty``."""
        while True:
            try:
                data = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                return
            offset = 0
            while offset < len(data):
                wd, mask, _cookie, size = _EVENT.unpack_from(data, offset)
                name = data[offset + 16: offset + 16 + size].rstrip(b"\0").decode(
                    errors="surrogateescape")
                offset += 16 + size
                if mask & IN_Q_OVERFLOW:
                    self.overflow = True
                    continue
                key = self.keys.get(wd)
                if key is None:
                    continue
                if mask & IN_IGNORED:
                    self.keys.pop(wd, None)
                if len(key) == 1 and not name.startswith("."):
                    self.dirty.add(key)                       # an automation folder came or went
                elif len(key) == 2 and not name.startswith("."):
                    self.dirty.add(key)                       # an entry folder came or went
                    self.dirty.add(key + (name,))
                elif len(key) == 3:
                    self.dirty.add(key)                       # something inside an entry
                if mask & (IN_DELETE_SELF | IN_MOVE_SELF):
                    self.dirty.add(key[:2] if len(key) == 3 else key)

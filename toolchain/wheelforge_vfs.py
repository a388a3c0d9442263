"""wheelforge's in-component file system: every file of an app's dependencies, inside the component.

componentize-py pre-initializes a component: it runs the app's module level once, with the
standard library and the `-p` directories mounted, and snapshots the interpreter. Only what was
imported then is in the component; a module imported later (numpy imports `numpy.fft` lazily),
a data file (tzdata's zone files) or package metadata is read from those directories at run
time, and without a host mount they are missing.

`wheelforge app build` packs the files of the standard library, the dependencies and the app
into an archive next to this module (one blob, each file raw-deflated, and a JSON index of guest
paths). The app's entry module imports this module first, at link time: it reads the archive
into memory, so that the snapshot holds it, and wraps the os, io and import layers so that a
path inside the archive is served from memory. Reads of those paths then work with no
file system at all, also in a component built with `--stub-wasi`. Paths outside the archive go
to the real file system, and the archive's paths are read-only.

The format (written by `src/app/vfs.rs`):
  _wheelforge_vfs.json  {"mtime": seconds, "files": {path: [offset, size, stored]},
                         "dirs": {path: [name, ...]}}
  _wheelforge_vfs.bin   the files, back to back; stored == size means raw, else raw deflate;
                        stored == -1 marks an extension module linked into the component, whose
                        bytes are not kept (it is loaded by path, from the component's table).
"""

import _io
import builtins
import errno
import io
import os
import posix
import stat as _stat
import sys
import zlib

_HERE = os.path.dirname(__file__)
_INDEX_NAME = "_wheelforge_vfs.json"
_BLOB_NAME = "_wheelforge_vfs.bin"

_files = {}
_extra = {}
_absent = set()
_dirs = {}
_blob = b""
_mtime = 0

_real = {
    "stat": posix.stat,
    "lstat": posix.lstat,
    "listdir": posix.listdir,
    "scandir": posix.scandir,
    "access": posix.access,
    "open": _io.open,
    "open_code": _io.open_code,
}


def _load():
    global _files, _dirs, _blob, _mtime
    import json

    with _real["open"](os.path.join(_HERE, _INDEX_NAME), "rb") as file:
        index = json.loads(file.read())
    with _real["open"](os.path.join(_HERE, _BLOB_NAME), "rb") as file:
        _blob = file.read()
    _files = {path: tuple(entry) for path, entry in index["files"].items()}
    _dirs = index["dirs"]
    _mtime = index["mtime"]


def _normalize(path):
    """The archive path for `path`, or None when it is not one (a descriptor, another type)."""
    if isinstance(path, int):
        return None
    try:
        path = os.fspath(path)
    except TypeError:
        return None
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not path.startswith("/"):
        try:
            path = os.getcwd().rstrip("/") + "/" + path
        except OSError:
            return None
    path = os.path.normpath(path)
    if path.startswith("//"):
        path = path[1:]
    return path


def _lookup(path):
    """("file", entry) or ("dir", names) for an archive path; None otherwise."""
    key = _normalize(path)
    if key is None:
        return None
    entry = _files.get(key)
    if entry is not None:
        return ("file", entry)
    data = _extra.get(key)
    if data is not None:
        return ("file", (0, len(data), -2))
    names = _dirs.get(key)
    if names is not None:
        return ("dir", names)
    if _absent and any(key == absent or key.startswith(absent + "/") for absent in _absent):
        return ("absent", None)
    return None


def read(path):
    """The bytes of the archive file at `path` (raises OSError like open())."""
    found = _lookup(path)
    if found is None:
        raise _not_found(path)
    kind, entry = found
    if kind == "absent":
        raise _not_found(path)
    if kind == "dir":
        raise IsADirectoryError(errno.EISDIR, "Is a directory", os.fspath(path))
    offset, size, stored = entry
    if stored == -2:
        return _extra[_normalize(path)]
    if stored == -1:
        raise PermissionError(
            errno.EACCES,
            "an extension module linked into the component: it is loaded by path, not read",
            os.fspath(path),
        )
    data = _blob[offset : offset + stored]
    return data if stored == size else zlib.decompress(data, -15)


def _stat_result(kind, entry, key):
    if kind == "absent":
        raise _not_found(key)
    if kind == "dir":
        mode, size = _stat.S_IFDIR | 0o555, 4096
    else:
        mode, size = _stat.S_IFREG | 0o444, entry[1]
    ino = hash(key) & 0x7FFFFFFF
    times = {
        "st_atime": float(_mtime),
        "st_mtime": float(_mtime),
        "st_ctime": float(_mtime),
        "st_atime_ns": _mtime * 10**9,
        "st_mtime_ns": _mtime * 10**9,
        "st_ctime_ns": _mtime * 10**9,
    }
    return os.stat_result((mode, ino, 0, 1, 0, 0, size, _mtime, _mtime, _mtime), times)


def stat(path, *, dir_fd=None, follow_symlinks=True):
    if dir_fd is None:
        found = _lookup(path)
        if found is not None:
            return _stat_result(found[0], found[1], _normalize(path))
    return _real["stat"](path, dir_fd=dir_fd, follow_symlinks=follow_symlinks)


def lstat(path, *, dir_fd=None):
    if dir_fd is None:
        found = _lookup(path)
        if found is not None:
            return _stat_result(found[0], found[1], _normalize(path))
    return _real["lstat"](path, dir_fd=dir_fd)


def _not_found(path):
    return FileNotFoundError(errno.ENOENT, "No such file or directory", os.fspath(path))


def _listing(found, path):
    """The names of the archive directory `found` describes (raises like the os calls)."""
    kind, names = found
    if kind == "absent":
        raise _not_found(path)
    if kind != "dir":
        raise NotADirectoryError(errno.ENOTDIR, "Not a directory", os.fspath(path))
    return names


def listdir(path="."):
    found = _lookup(path)
    if found is None:
        return _real["listdir"](path)
    names = _listing(found, path)
    if isinstance(path, bytes):
        return [os.fsencode(name) for name in names]
    return list(names)


class _DirEntry:
    """What os.scandir yields, for an archive directory."""

    __slots__ = ("name", "path", "_key")

    def __init__(self, directory, name, key):
        self.name = name
        self.path = os.path.join(directory, name) if directory != "." else name
        self._key = key

    def __fspath__(self):
        return self.path

    def __repr__(self):
        return f"<DirEntry {self.name!r}>"

    def is_dir(self, *, follow_symlinks=True):
        return self._key in _dirs

    def is_file(self, *, follow_symlinks=True):
        return self._key in _files or self._key in _extra

    def is_symlink(self):
        return False

    def is_junction(self):
        return False

    def stat(self, *, follow_symlinks=True):
        return stat(self._key)

    def inode(self):
        return self.stat().st_ino


class _ScandirIterator:
    def __init__(self, entries):
        self._entries = iter(entries)

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._entries)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._entries = iter(())


def scandir(path="."):
    found = _lookup(path)
    if found is None:
        return _real["scandir"](path)
    names = _listing(found, path)
    key = _normalize(path)
    directory = os.fspath(path)
    return _ScandirIterator(_DirEntry(directory, name, key.rstrip("/") + "/" + name) for name in names)


def access(path, mode, *, dir_fd=None, effective_ids=False, follow_symlinks=True):
    if dir_fd is None:
        found = _lookup(path)
        if found is not None:
            return found[0] != "absent" and not (mode & os.W_OK)
    return _real["access"](
        path, mode, dir_fd=dir_fd, effective_ids=effective_ids, follow_symlinks=follow_symlinks
    )


class _File(io.BytesIO):
    """A binary archive file opened for reading; `name` and `mode` as for a real file."""

    def __init__(self, data, name, mode="rb"):
        super().__init__(data)
        self.name = name
        self.mode = mode


def open(file, mode="r", buffering=-1, encoding=None, errors=None, newline=None, closefd=True, opener=None):
    if opener is None and not isinstance(file, int):
        found = _lookup(file)
        if found is not None:
            if found[0] == "absent" and not any(flag in mode for flag in "wax+"):
                raise _not_found(file)
            if any(flag in mode for flag in "wax+"):
                raise OSError(errno.EROFS, "Read-only file system (a file packed into the component)", os.fspath(file))
            name = os.fspath(file)
            raw = _File(read(file), name)
            if "b" in mode:
                return raw
            text = io.TextIOWrapper(raw, encoding=io.text_encoding(encoding), errors=errors, newline=newline)
            text.mode = mode
            return text
    return _real["open"](file, mode, buffering, encoding, errors, newline, closefd, opener)


def open_code(path):
    if _lookup(path) is not None:
        return _File(read(path), path)
    return _real["open_code"](path)


def _capture_path_entries():
    """The `sys.path` directories that are not in the archive (componentize-py's own: the
    generated bindings, its bundled modules), read now, so that no import at run time asks
    the host's file system (in a `--stub-wasi` component, any WASI call traps)."""
    for entry in list(sys.path):
        # `/<n>` are the `-p` directories: the packed ones are in the archive, and one that is
        # not (componentize-py appends the site-packages of the Python it finds) is not the
        # app's.
        if not entry.startswith("/") or entry in _dirs:
            continue
        if entry[1:].isdigit():
            sys.path.remove(entry)
            continue
        try:
            _real["stat"](entry)
        except OSError:
            # Absent now, absent at run time: answered without asking the host.
            _absent.add(entry)
            continue
        for directory, names, files in os.walk(entry):
            names[:] = sorted(name for name in names if name != "__pycache__")
            _dirs[directory] = sorted(names + files)
            for name in files:
                path = directory.rstrip("/") + "/" + name
                try:
                    with _real["open"](path, "rb") as file:
                        _extra[path] = file.read()
                except OSError:
                    pass
        parent, _, name = entry.rstrip("/").rpartition("/")
        listing = _dirs.setdefault(parent or "/", [])
        if name not in listing:
            listing.append(name)
            listing.sort()


def install():
    """Loads the archive and wraps the os, io and import layers (once)."""
    if _files:
        return
    _load()
    _capture_path_entries()
    for module in (os, posix):
        module.stat = stat
        module.lstat = lstat
        module.listdir = listdir
        module.scandir = scandir
        module.access = access
    for module in (io, _io, builtins):
        module.open = open
    io.open_code = open_code
    _io.open_code = open_code
    # Modules that kept a reference to the original open before this ran.
    tokenize = sys.modules.get("tokenize")
    if tokenize is not None:
        tokenize._builtin_open = open
    # Directory listings cached by the import system stay valid: the archive keeps their
    # modification times. Bytecode cannot be written into the archive.
    sys.dont_write_bytecode = True


install()

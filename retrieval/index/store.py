"""The index on disk: immutable files under fresh names, published by one manifest swap.

Layout of an index folder (format 2)::

    .techbrief-index        marks the folder as techbrief's: nothing else is ever touched
    .lock                   advisory lock: shared while opening, exclusive while committing
    seg-N-XXXXXXXX.bin      one immutable segment: its arrays (memory-mapped when opened)
    gen-G-XXXXXXXX.bin      generation G: document frequencies and removed documents
    vocab-XXXXXXXX.txt      the terms, one per line, append-only (a rebuild starts a new one)
    manifest.json           names every file above with its size, arrays and CRC-32:
                            written last and renamed into place, the commit point

A ``.bin`` file is a *pack*: raw arrays, each at a 64-byte aligned offset,
described by the manifest (dtype, offset, length). Every file is written
once, under a name no file ever had (a counter and random letters, created
exclusively); the manifest is written under a fresh temporary name; all of
them are flushed with ``fsync`` (at once: the file system commits them
together), then the manifest is renamed over ``manifest.json`` and the folder
flushed. So a segment is never rewritten in place (a reader that has it
memory-mapped would die of SIGBUS on a truncation), and a crash at any point
leaves the previous generation whole. One file per segment and the flushes
in parallel keep a commit at two waits for the disk.

Opening checks everything before the scoring kernel (compiled without bounds
checks) can see it: the manifest's own checksum and the shape of every
field, the size and CRC-32 of every file it names, every array's dtype and
bounds, and the invariants of every segment
(:func:`~retrieval.index.segments.check_segment`). Anything wrong raises
:class:`IndexCorrupt`: the caller rebuilds.

Several processes may share a folder. A commit takes an exclusive ``flock``
on ``.lock`` and first checks that the manifest on disk is still the one
the writer loaded (:func:`current_commit`); a writer that lost the race
writes nothing (:class:`IndexStale`). Opening holds the lock shared, so that
no sweep deletes a file while it is being opened. The sweep deletes only
files with techbrief's own names that the manifest on disk does not name,
and only under the exclusive lock.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import math
import os
import re
import secrets
import zlib
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from retrieval.index.errors import IndexCorrupt, IndexForeign, IndexUnwritable
from retrieval.index.segments import SEGMENT_ARRAYS, SEGMENT_DTYPES, Segment, check_segment

__all__ = [
    "FORMAT_VERSION",
    "GENERATION_DTYPES",
    "LOCK",
    "MANIFEST",
    "MARKER",
    "IndexLock",
    "Manifest",
    "Pack",
    "SegmentEntry",
    "append_vocabulary",
    "claim",
    "current_commit",
    "fresh_commit",
    "fresh_generation_name",
    "fresh_vocabulary",
    "load_segment",
    "read_manifest",
    "read_pack",
    "read_vocabulary",
    "remove_files",
    "sweep",
    "sync_directory",
    "write_manifest",
    "write_pack",
    "write_segment",
]

FORMAT_VERSION = 3  # 3: score bounds per term and per block of postings (was max_tf, min_len)
MANIFEST = "manifest.json"
MARKER = ".techbrief-index"
LOCK = ".lock"

GENERATION_DTYPES: dict[str, tuple[np.dtype[Any], ...]] = {
    "df": (np.dtype(np.int32),),
    "dead": (np.dtype(np.int64),),
}
"""The arrays of a generation pack and the dtypes they may have."""

_ALIGN = 64
_MARKER_TEXT = (
    "This folder is techbrief's search index. It is rebuilt from the database\n"
    "when needed; techbrief removes only files it wrote here.\n"
)
_TAG = r"[0-9a-f]{8}"
_SEGMENT = re.compile(rf"seg-\d+-{_TAG}\.bin")
_GENERATION = re.compile(rf"gen-\d+-{_TAG}\.bin")
_VOCABULARY = re.compile(rf"vocab-{_TAG}\.txt")
# Names of format 1 (fixed names, rewritten in place) and temporary manifests:
# techbrief's own, swept once no manifest names them.
_OLD_SEGMENT = re.compile(r"seg-\d+")
_OLD_FILE = re.compile(rf"vocab\.txt|(df|dead)-\d+\.npy|{re.escape(MANIFEST)}(\.{_TAG})?\.tmp")
_OLD_ARRAY = re.compile(r"[a-z0-9_]+\.npy")


def _tag() -> str:
    return secrets.token_hex(4)


# -- the folder is ours --------------------------------------------------------------------


def claim(directory: Path) -> None:
    """Make sure ``directory`` is techbrief's index folder, creating it if missing.

    A folder is techbrief's when it holds the marker file, or an index
    manifest (an index from before the marker existed), or nothing at all;
    the marker is then written. Anything else at that path raises
    :class:`IndexForeign` and is left exactly as it was.
    """
    try:
        if directory.exists() and not directory.is_dir():
            raise IndexForeign(f"{directory} is a file, not techbrief's search index folder")
        if (directory / MARKER).is_file():
            return
        if directory.is_dir() and any(directory.iterdir()) and not _old_manifest(directory):
            raise IndexForeign(
                f"{directory} holds files techbrief did not make; move them away "
                "(techbrief never deletes what it did not create)"
            )
        directory.mkdir(parents=True, exist_ok=True)
        # "x": another process may claim it at the same moment.
        with (
            contextlib.suppress(FileExistsError),
            open(directory / MARKER, "x", encoding="utf-8") as marker,
        ):
            marker.write(_MARKER_TEXT)
    except OSError as exc:
        raise IndexUnwritable(
            f"cannot create the search index in {directory}: {_why(exc)}"
        ) from exc


def _old_manifest(directory: Path) -> bool:
    """Whether the folder holds a manifest techbrief wrote (before the marker existed)."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and "format" in manifest and "segments" in manifest


# -- the lock ------------------------------------------------------------------------------


class IndexLock:
    """The folder's advisory lock (``flock`` on ``.lock``), re-entrant within one object.

    Held shared while opening, exclusive while committing and sweeping. One
    object per index, used from one thread at a time.
    """

    def __init__(self, directory: Path, *, read_only: bool = False) -> None:
        self.path = directory / LOCK
        self.read_only = read_only  # never create the lock file
        self._fd: int | None = None
        self._depth = 0
        self._exclusive = False

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        """Held shared (or not at all when a read-only folder has no lock file yet)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            try:
                if self.read_only:
                    raise
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError:
                fd = -1  # no lock file: nobody committed here yet (or can), nothing to guard
        with self._held(fd, fcntl.LOCK_SH, exclusive=False):
            yield

    @contextlib.contextmanager
    def exclusive(self, *, wait: bool = True) -> Iterator[bool]:
        """Held exclusive; with ``wait=False`` yields False instead of waiting for it."""
        if self._depth:
            if not self._exclusive:
                raise RuntimeError("cannot take the index lock exclusive while holding it shared")
            self._depth += 1
            try:
                yield True
            finally:
                self._depth -= 1
            return
        try:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except PermissionError:  # a lock file others made read-only locks as well
                fd = os.open(self.path, os.O_RDONLY)
        except OSError as exc:
            raise IndexUnwritable(
                f"cannot write the search index in {self.path.parent}: {_why(exc)}"
            ) from exc
        operation = fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB
        try:
            fcntl.flock(fd, operation)
        except BlockingIOError:
            os.close(fd)
            yield False
            return
        except BaseException:
            os.close(fd)
            raise
        with self._held(fd, None, exclusive=True):
            yield True

    @contextlib.contextmanager
    def _held(self, fd: int, operation: int | None, *, exclusive: bool) -> Iterator[None]:
        try:
            if fd >= 0 and operation is not None:
                fcntl.flock(fd, operation)
            self._fd, self._depth, self._exclusive = fd, 1, exclusive
            yield
        finally:
            self._fd, self._depth, self._exclusive = None, 0, False
            if fd >= 0:
                os.close(fd)  # releases the lock


# -- packs -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pack:
    """A ``.bin`` file as the manifest names it: size, CRC-32, and (dtype, offset, length)
    of each array in it."""

    name: str
    size: int
    crc: int
    arrays: dict[str, tuple[str, int, int]]


class _Checksummed:
    """A binary writer that counts and checksums what passes through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.crc = 0
        self.size = 0

    def write(self, data: bytes | memoryview) -> None:
        self.crc = zlib.crc32(data, self.crc)
        self.size += self.raw.write(data)


def write_pack(path: Path, arrays: Mapping[str, npt.NDArray[Any]]) -> Pack:
    """Write ``arrays`` into a new file (never over an existing one).

    Not yet on disk: :func:`write_manifest` flushes it before publishing it.
    """
    layout: dict[str, tuple[str, int, int]] = {}
    with open(path, "xb") as raw:
        out = _Checksummed(raw)
        for name, array in arrays.items():
            data = np.ascontiguousarray(array)
            out.write(bytes(-out.size % _ALIGN))
            layout[name] = (data.dtype.str, out.size, int(data.shape[0]))
            for start in range(0, data.shape[0], 1 << 20):  # no second copy of a big array
                out.write(data[start : start + (1 << 20)].data.cast("B"))
    return Pack(path.name, out.size, out.crc, layout)


def read_pack(
    directory: Path, pack: Pack, dtypes: Mapping[str, tuple[np.dtype[Any], ...]]
) -> dict[str, npt.NDArray[Any]]:
    """The arrays of ``pack``, memory-mapped read-only, after checking the file against the
    manifest: size, CRC-32, each array's dtype among ``dtypes`` and its bounds."""
    path = directory / pack.name
    if set(pack.arrays) != set(dtypes):
        raise IndexCorrupt(f"{pack.name}: the manifest lists other arrays than expected")
    if path.stat().st_size != pack.size:
        raise IndexCorrupt(f"{pack.name} is not the size the manifest says")
    if _file_crc(path) != pack.crc:
        raise IndexCorrupt(f"{pack.name} does not match its checksum")
    layout: list[tuple[str, np.dtype[Any], int, int]] = []
    for name, (dtype_name, offset, length) in pack.arrays.items():
        try:
            dtype = np.dtype(dtype_name)
        except TypeError:
            raise IndexCorrupt(f"{pack.name}: {name} has an unknown dtype") from None
        if dtype not in dtypes[name]:
            raise IndexCorrupt(f"{pack.name}: {name} is not an array of {dtypes[name][0]}")
        if offset % _ALIGN or offset + length * dtype.itemsize > pack.size:
            raise IndexCorrupt(f"{pack.name}: {name} lies outside the file")
        layout.append((name, dtype, offset, length))
    raw = np.memmap(path, dtype=np.uint8, mode="r") if pack.size else np.zeros(0, np.uint8)
    return {
        name: raw[offset : offset + length * dtype.itemsize].view(dtype)
        for name, dtype, offset, length in layout
    }


def _file_crc(path: Path, limit: int | None = None) -> int:
    crc = 0
    remaining = path.stat().st_size if limit is None else limit
    with open(path, "rb") as data:
        while remaining > 0:
            chunk = data.read(min(1 << 22, remaining))
            if not chunk:
                break
            crc = zlib.crc32(chunk, crc)
            remaining -= len(chunk)
    return crc


# -- segments --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SegmentEntry:
    """A segment as the manifest names it: its pack, sizes and key range."""

    pack: Pack
    docs: int
    terms: int
    postings: int
    first_key: int
    last_key: int

    @property
    def name(self) -> str:
        return self.pack.name


def write_segment(directory: Path, segment: Segment, number: int) -> SegmentEntry:
    """Write ``segment`` into a new file ``seg-<number>-<random>.bin``; its manifest entry."""
    while True:
        try:
            pack = write_pack(
                directory / f"seg-{number}-{_tag()}.bin",
                {a: getattr(segment, a) for a in SEGMENT_ARRAYS},
            )
            break
        except FileExistsError:
            continue
    keys = segment.keys
    return SegmentEntry(
        pack=pack,
        docs=segment.n_docs,
        terms=int(segment.term_ids.shape[0]),
        postings=segment.n_postings,
        first_key=int(keys[0]) if keys.shape[0] else 0,
        last_key=int(keys[-1]) if keys.shape[0] else 0,
    )


def load_segment(directory: Path, entry: SegmentEntry, first_doc: int, n_terms: int) -> Segment:
    """A segment checked against its manifest entry and its invariants (memory-mapped)."""
    arrays = read_pack(directory, entry.pack, {a: SEGMENT_DTYPES[a] for a in SEGMENT_ARRAYS})
    segment = Segment(first_doc=first_doc, name=entry.name, **arrays)
    check_segment(segment, n_terms)
    if (segment.n_docs, segment.term_ids.shape[0], segment.n_postings) != (
        entry.docs,
        entry.terms,
        entry.postings,
    ):
        raise IndexCorrupt(f"{entry.name}: sizes differ from the manifest")
    if segment.n_docs and (
        int(segment.keys[0]) != entry.first_key or int(segment.keys[-1]) != entry.last_key
    ):
        raise IndexCorrupt(f"{entry.name}: keys differ from the manifest")
    return segment


# -- the vocabulary --------------------------------------------------------------------------


def fresh_vocabulary() -> str:
    return f"vocab-{_tag()}.txt"


def read_vocabulary(directory: Path, name: str, size_bytes: int, crc: int) -> list[str]:
    """The terms in the first ``size_bytes`` bytes of ``name`` (a torn tail after them ignored)."""
    path = directory / name
    if path.stat().st_size < size_bytes:
        raise IndexCorrupt(f"{name} is shorter than the manifest says")
    if _file_crc(path, size_bytes) != crc:
        raise IndexCorrupt(f"{name} does not match its checksum")
    with open(path, "rb") as vocabulary:
        raw = vocabulary.read(size_bytes)
    if raw and not raw.endswith(b"\n"):
        raise IndexCorrupt(f"{name} ends inside a term")
    return raw.decode("utf-8").split("\n")[:-1] if raw else []


def append_vocabulary(
    directory: Path, name: str, terms: Sequence[str], size_bytes: int, crc: int
) -> tuple[int, int]:
    """Append ``terms`` after the first ``size_bytes`` bytes of ``name``; the new (size, CRC).

    Bytes past ``size_bytes`` belong to no manifest (a torn append): they go.
    Only ever called under the exclusive lock, by the writer of the newest generation.
    """
    path = directory / name
    added = "".join(f"{t}\n" for t in terms).encode("utf-8")
    with open(path, "ab") as vocabulary:
        if vocabulary.tell() != size_bytes:
            vocabulary.truncate(size_bytes)
            vocabulary.seek(size_bytes)
        if added:
            vocabulary.write(added)
    return size_bytes + len(added), zlib.crc32(added, crc)


# -- the manifest --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Manifest:
    """One committed generation: parameters, and every file with its checksum."""

    commit: str
    generation: int
    k1: float
    b: float
    epsilon: float
    meta: dict[str, str]
    segments: tuple[SegmentEntry, ...]
    next_segment: int
    vocabulary: str
    vocab_size: int
    vocab_bytes: int
    vocab_crc: int
    state: Pack  # the generation pack: df, dead
    live_docs: int

    def files(self) -> set[str]:
        """The names of the files this manifest publishes."""
        return {s.name for s in self.segments} | {self.vocabulary, self.state.name}

    def to_json(self) -> str:
        """The manifest as written: its canonical JSON with its checksum added in front."""
        body = asdict(self)
        body["format"] = FORMAT_VERSION
        canonical = _canonical(body)
        checksum = zlib.crc32(canonical.encode("utf-8"))
        return f'{{"checksum":{checksum},{canonical[1:]}'


def _canonical(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def _checksum(body: dict[str, Any]) -> int:
    """The CRC-32 of the manifest's canonical JSON without its checksum field."""
    return zlib.crc32(_canonical({k: v for k, v in body.items() if k != "checksum"}).encode())


def fresh_commit() -> str:
    """A commit id no other generation has."""
    return secrets.token_hex(8)


def fresh_generation_name(generation: int) -> str:
    return f"gen-{generation}-{_tag()}.bin"


def read_manifest(directory: Path) -> Manifest:
    """The committed manifest, checked field by field; :class:`IndexCorrupt` if it is not one."""
    path = directory / MANIFEST
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexCorrupt(f"{directory} holds no index manifest") from None
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"{path} cannot be read: {exc}") from None
    if not isinstance(raw, dict):
        raise IndexCorrupt(f"{path} is not an index manifest")
    if raw.get("format") != FORMAT_VERSION:
        raise IndexCorrupt(
            f"index format {raw.get('format')!r} is not this techbrief's ({FORMAT_VERSION})"
        )
    if raw.get("checksum") != _checksum(raw):
        raise IndexCorrupt(f"{path} does not match its checksum")
    try:
        return _parse_manifest(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexCorrupt(f"{path} is malformed: {exc!r}") from None


def _parse_manifest(raw: dict[str, Any]) -> Manifest:
    meta = _object(raw, "meta")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise TypeError("meta is not a map of strings")
    segments = raw["segments"]
    if not isinstance(segments, list):
        raise TypeError("segments is not a list")
    return Manifest(
        commit=_text(raw, "commit", re.compile(r"[0-9a-f]{16}")),
        generation=_count(raw, "generation"),
        k1=_number(raw, "k1"),
        b=_number(raw, "b"),
        epsilon=_number(raw, "epsilon"),
        meta=dict(meta),
        segments=tuple(_segment_entry(s) for s in segments),
        next_segment=_count(raw, "next_segment"),
        vocabulary=_text(raw, "vocabulary", _VOCABULARY),
        vocab_size=_count(raw, "vocab_size"),
        vocab_bytes=_count(raw, "vocab_bytes"),
        vocab_crc=_count(raw, "vocab_crc"),
        state=_pack(_object(raw, "state"), _GENERATION),
        live_docs=_count(raw, "live_docs"),
    )


def _segment_entry(raw: object) -> SegmentEntry:
    if not isinstance(raw, dict):
        raise TypeError("a segment entry is not an object")
    return SegmentEntry(
        pack=_pack(_object(raw, "pack"), _SEGMENT),
        docs=_count(raw, "docs"),
        terms=_count(raw, "terms"),
        postings=_count(raw, "postings"),
        first_key=_integer(raw, "first_key"),
        last_key=_integer(raw, "last_key"),
    )


def _pack(raw: dict[str, Any], pattern: re.Pattern[str]) -> Pack:
    arrays = _object(raw, "arrays")
    layout: dict[str, tuple[str, int, int]] = {}
    for name, value in arrays.items():
        if not (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)):
            raise TypeError(f"array {name!r} is not [dtype, offset, length]")
        spec = {"offset": value[1], "length": value[2]}
        layout[str(name)] = (value[0], _count(spec, "offset"), _count(spec, "length"))
    return Pack(
        name=_text(raw, "name", pattern),
        size=_count(raw, "size"),
        crc=_count(raw, "crc"),
        arrays=layout,
    )


def _object(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw[key]
    if not isinstance(value, dict):
        raise TypeError(f"{key} is not an object")
    return value


def _integer(raw: dict[str, Any], key: str) -> int:
    value = raw[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{key} is not a whole number")
    return value


def _count(raw: dict[str, Any], key: str) -> int:
    value = _integer(raw, key)
    if value < 0:
        raise ValueError(f"{key} is negative")
    return value


def _number(raw: dict[str, Any], key: str) -> float:
    value = raw[key]
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise TypeError(f"{key} is not a finite number")
    return float(value)


def _text(raw: dict[str, Any], key: str, pattern: re.Pattern[str]) -> str:
    value = raw[key]
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"{key} is not a valid name")
    return value


def current_commit(directory: Path) -> str | None:
    """The commit id of the manifest on disk (``None``: none, or not readable)."""
    try:
        raw = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    commit = raw.get("commit") if isinstance(raw, dict) else None
    return commit if isinstance(commit, str) else None


def write_manifest(directory: Path, manifest: Manifest, written: Sequence[str] = ()) -> None:
    """Publish ``manifest``: the commit point.

    The manifest is written under a fresh temporary name; it and the files
    ``written`` for this generation are flushed to disk (``fsync``, all at once:
    the file system commits them together); then it is renamed over the old
    one and the folder flushed, which makes the new names durable too. A crash
    at any point leaves the previous generation or this one, whole.
    """
    temporary = directory / f"{MANIFEST}.{_tag()}.tmp"
    with open(temporary, "x", encoding="utf-8") as out:
        out.write(manifest.to_json())
    try:
        _flush_files([temporary, *(directory / name for name in written)])
        os.replace(temporary, directory / MANIFEST)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    sync_directory(directory)


def _flush_files(paths: Sequence[Path]) -> None:
    """``fsync`` every file at once: one wait for the disk instead of one per file."""

    def flush(path: Path) -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    if len(paths) == 1:
        flush(paths[0])
        return
    with ThreadPoolExecutor(max_workers=len(paths), thread_name_prefix="index-fsync") as pool:
        for done in [pool.submit(flush, path) for path in paths]:
            done.result()  # the first failure is raised


def sync_directory(directory: Path) -> None:
    """Flush a folder's entries (new and renamed files) to disk."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # some file systems cannot sync a folder
            raise
    finally:
        os.close(fd)


# -- removing ----------------------------------------------------------------------------


def sweep(directory: Path, current: Manifest | None = None) -> None:
    """Delete techbrief's files that the manifest on disk does not name.

    Call with the lock held exclusive; ``current`` is that manifest when the
    caller has just written it. Only names techbrief gives its files are
    considered; anything else in the folder is left alone, and nothing is
    deleted while the manifest cannot be read.
    """
    try:
        keep = (current or read_manifest(directory)).files()
    except IndexCorrupt:
        return
    for entry in directory.iterdir():
        name = entry.name
        if name in keep or name in (MANIFEST, MARKER, LOCK) or entry.is_symlink():
            continue
        with contextlib.suppress(OSError):
            if _OLD_SEGMENT.fullmatch(name) and entry.is_dir():
                _remove_old_segment(entry)
            elif entry.is_file() and any(
                p.fullmatch(name) for p in (_SEGMENT, _GENERATION, _VOCABULARY, _OLD_FILE)
            ):
                entry.unlink()


def _remove_old_segment(folder: Path) -> None:
    for item in folder.iterdir():
        if _OLD_ARRAY.fullmatch(item.name) and item.is_file() and not item.is_symlink():
            item.unlink()
    folder.rmdir()  # fails, and leaves it, if anything else is inside


def remove_files(directory: Path, names: Sequence[str]) -> None:
    """Best-effort removal of files a failed commit wrote (no manifest names them)."""
    for name in names:
        with contextlib.suppress(OSError):
            (directory / name).unlink()


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)

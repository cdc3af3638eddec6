"""The index on disk: segment files, the vocabulary, per-generation arrays, the manifest.

Layout of an index directory::

    seg-N/<array>.npy   one immutable segment (memory-mapped when opened)
    vocab.txt           the terms, one per line, append-only
    df-G.npy            document frequencies of generation G
    dead-G.npy          removed document numbers of generation G (when any)
    manifest.json       written last and replaced atomically: the commit point

A crash leaves the previous generation intact; files no manifest names are
swept (:func:`sweep`). Every reader here raises :class:`IndexCorrupt` for
files that cannot be read as an index.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.index.errors import IndexCorrupt
from retrieval.index.segments import SEGMENT_ARRAYS, IntArray, Segment

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST",
    "VOCABULARY",
    "append_vocabulary",
    "load_segment",
    "read_dead",
    "read_document_frequencies",
    "read_manifest",
    "read_vocabulary",
    "sweep",
    "write_generation",
    "write_manifest",
    "write_segment",
]

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
VOCABULARY = "vocab.txt"


def read_manifest(directory: Path) -> dict[str, Any]:
    manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    if not isinstance(manifest, dict):
        raise IndexCorrupt(f"{directory / MANIFEST} is not an index manifest")
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexCorrupt(f"index format {manifest.get('format')!r} is not supported")
    return manifest


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    """Replace the manifest atomically: the commit point of a generation."""
    temporary = directory / f"{MANIFEST}.tmp"
    temporary.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    os.replace(temporary, directory / MANIFEST)


def read_vocabulary(directory: Path, size_bytes: int) -> list[str]:
    """The first ``size_bytes`` bytes of the vocabulary file as terms (a torn tail ignored)."""
    raw = (directory / VOCABULARY).read_bytes()[:size_bytes]
    return raw.decode("utf-8").split("\n")[:-1] if raw else []


def append_vocabulary(directory: Path, terms: Sequence[str], size_bytes: int) -> int:
    """Append ``terms`` after the first ``size_bytes`` bytes; returns the new size."""
    path = directory / VOCABULARY
    if not terms:
        if not path.exists():
            path.write_bytes(b"")
        return size_bytes
    added = "".join(f"{t}\n" for t in terms).encode()
    with open(path, "ab") as vocabulary:
        vocabulary.truncate(size_bytes)  # drop a torn append from a crash
        vocabulary.seek(size_bytes)
        vocabulary.write(added)
    return size_bytes + len(added)


def read_document_frequencies(directory: Path, generation: int) -> IntArray:
    return np.array(np.load(directory / f"df-{generation}.npy"), dtype=np.int64)


def read_dead(directory: Path, generation: int) -> IntArray:
    path = directory / f"dead-{generation}.npy"
    return np.load(path) if path.exists() else np.zeros(0, dtype=np.int64)


def write_generation(directory: Path, generation: int, df: IntArray, dead: IntArray) -> None:
    """The document frequencies and removed documents of a new generation."""
    np.save(directory / f"df-{generation}.npy", df.astype(np.int32))
    if dead.shape[0]:
        np.save(directory / f"dead-{generation}.npy", dead.astype(np.int64))


def load_segment(directory: Path, name: str, first_doc: int) -> Segment:
    arrays = {a: np.load(directory / name / f"{a}.npy", mmap_mode="r") for a in SEGMENT_ARRAYS}
    segment = Segment(first_doc=first_doc, name=name, **arrays)
    if (
        segment.starts.shape[0] != segment.term_ids.shape[0] + 1
        or int(segment.starts[-1]) != segment.n_postings
    ):
        raise IndexCorrupt(f"segment {name} is damaged")
    return segment


def write_segment(directory: Path, name: str, segment: Segment) -> None:
    folder = directory / name
    folder.mkdir(exist_ok=True)
    for array in SEGMENT_ARRAYS:
        np.save(folder / f"{array}.npy", getattr(segment, array))


def sweep(directory: Path, keep: set[str]) -> None:
    """Delete files of older generations and segments no manifest names."""
    for entry in directory.iterdir():
        if entry.name in keep:
            continue
        if entry.is_dir() and entry.name.startswith("seg-"):
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(("df-", "dead-", f"{MANIFEST}.tmp")):
            entry.unlink(missing_ok=True)

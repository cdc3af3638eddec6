"""Fuzzing the persisted index: every file mutated, never a crash or a wrong answer.

An index with several segments and removed documents is saved; then every
file it consists of is damaged in many ways (truncated, bytes flipped,
garbage appended, arrays swapped, dtypes changed, document numbers out of
range, manifests of the wrong shape) and opened again. The open runs in a
child process, so that a segmentation fault or a SIGBUS in the compiled
kernel is seen as what it is. Each damaged copy must either be refused
(:class:`IndexCorrupt`: the corpus rebuilds it) or answer exactly as the
intact index does.

Damage that recomputes every checksum ("resealed": what a bug or a forger
could write) must still never crash, and never make the kernel read out of
bounds: the structural checks catch it, or the index opens and searches.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import textwrap
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.core.corpus import Corpus
from retrieval.index import BM25Index
from tests.conftest import NOW

ROOT = Path(__file__).resolve().parents[1]

QUERIES = [["w1"], ["w2", "w7"], ["w3", "w3", "w40"], ["w11", "w0", "w5"], ["w19"], ["w0"]]

CHILD = textwrap.dedent(
    """
    import json, sys
    from retrieval.index import BM25Index, IndexCorrupt
    queries = json.loads(sys.argv[1])
    for line in sys.stdin:
        case, path = line.rstrip("\\n").split("\\t")
        print(json.dumps({"start": case}), flush=True)
        try:
            index = BM25Index.open(path)
        except IndexCorrupt as exc:
            print(json.dumps({"case": case, "outcome": "corrupt", "why": str(exc)}), flush=True)
            continue
        except Exception as exc:
            print(json.dumps({"case": case, "outcome": "error", "why": repr(exc)}), flush=True)
            continue
        try:
            hits = [[[h.key, h.score] for h in index.search(q, 5)] for q in queries]
            keys = [int(k) for k in index.keys()]
        except Exception as exc:
            failed = {"case": case, "outcome": "search-error", "why": repr(exc)}
            print(json.dumps(failed), flush=True)
            continue
        print(json.dumps({"case": case, "outcome": "ok", "hits": hits, "keys": keys}), flush=True)
    """
)


@dataclass
class Case:
    name: str
    damage: Callable[[Path], None]
    resealed: bool = False


def _build(directory: Path) -> BM25Index:
    rng = np.random.default_rng(5)
    index = BM25Index(directory=directory, meta={"analyzer": "fuzz"})
    key = 1
    for batch in range(3):
        docs = [
            [f"w{int(x)}" for x in rng.zipf(1.3, size=int(rng.integers(3, 12))) % 60]
            for _ in range(30 + 10 * batch)
        ]
        index.add(list(range(key, key + len(docs))), docs)
        key += len(docs)
    index.remove([2, 3, 40, 41, 77])
    assert index.segment_count == 3
    return index


def _manifest(folder: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((folder / "manifest.json").read_text())
    return manifest


def _seal(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    manifest["checksum"] = zlib.crc32(canonical.encode())
    return json.dumps(manifest)


def _packs(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [s["pack"] for s in manifest["segments"]] + [manifest["state"]]


def _reseal(folder: Path) -> None:
    """Make the manifest agree with the files as they now are (sizes and checksums)."""
    manifest = _manifest(folder)
    for pack in _packs(manifest):
        data = (folder / pack["name"]).read_bytes()
        pack["size"], pack["crc"] = len(data), zlib.crc32(data)
    vocab = (folder / manifest["vocabulary"]).read_bytes()
    manifest["vocab_bytes"], manifest["vocab_crc"] = len(vocab), zlib.crc32(vocab)
    (folder / "manifest.json").write_text(_seal(manifest))


def _layout(manifest: dict[str, Any], array: str) -> list[Any]:
    layout: list[Any] = manifest["segments"][0]["pack"]["arrays"][array]
    return layout


def _manifest_edit(
    edit: Callable[[dict[str, Any]], str | None], *, seal: bool
) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        manifest = _manifest(folder)
        text = edit(manifest)
        if text is None:
            text = _seal(manifest) if seal else json.dumps(manifest)
        (folder / "manifest.json").write_text(text)

    return damage


def _bytes(name: str, change: Callable[[bytearray], bytearray]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        path = folder / name
        path.write_bytes(bytes(change(bytearray(path.read_bytes()))))

    return damage


def _flip(position: float, mask: int) -> Callable[[bytearray], bytearray]:
    def change(data: bytearray) -> bytearray:
        if data:
            i = min(len(data) - 1, int(position * len(data)))
            data[i] ^= mask
        return data

    return change


def _array(pack: dict[str, Any], array: str) -> tuple[np.dtype[Any], int, int]:
    dtype, offset, length = pack["arrays"][array]
    return np.dtype(dtype), offset, length


def _rewrite_array(
    pack_of: Callable[[dict[str, Any]], dict[str, Any]],
    array: str,
    change: Callable[[np.ndarray[Any, Any]], np.ndarray[Any, Any]],
) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        pack = pack_of(_manifest(folder))
        dtype, offset, length = _array(pack, array)
        path = folder / pack["name"]
        data = bytearray(path.read_bytes())
        values = np.frombuffer(bytes(data[offset : offset + length * dtype.itemsize]), dtype)
        data[offset : offset + length * dtype.itemsize] = change(values.copy()).tobytes()
        path.write_bytes(bytes(data))

    return damage


def _swap_arrays(
    pack_of: Callable[[dict[str, Any]], dict[str, Any]], a: str, b: str
) -> Callable[[Path], None]:
    """The manifest's descriptions of two arrays exchanged (each names the other's bytes)."""

    def damage(folder: Path) -> None:
        manifest = _manifest(folder)
        pack = pack_of(manifest)
        pack["arrays"][a], pack["arrays"][b] = pack["arrays"][b], pack["arrays"][a]
        (folder / "manifest.json").write_text(_seal(manifest))

    return damage


def _set_dtype(
    pack_of: Callable[[dict[str, Any]], dict[str, Any]], array: str, dtype: str
) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        manifest = _manifest(folder)
        spec = pack_of(manifest)["arrays"][array]
        spec[0] = dtype
        (folder / "manifest.json").write_text(_seal(manifest))

    return damage


def _swap_files(first: str, second: str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        a, b = folder / first, folder / second
        temporary = folder / "swap.tmp"
        a.rename(temporary)
        b.rename(a)
        temporary.rename(b)

    return damage


def _cases(folder: Path) -> list[Case]:
    manifest = _manifest(folder)
    files = ["manifest.json", manifest["vocabulary"]] + [p["name"] for p in _packs(manifest)]
    cases: list[Case] = []
    # Every file: truncated, flipped, extended, zeroed.
    for name in files:
        cases += [
            Case(f"{name}: empty", _bytes(name, lambda d: bytearray())),
            Case(f"{name}: half", _bytes(name, lambda d: d[: len(d) // 2])),
            Case(f"{name}: one byte short", _bytes(name, lambda d: d[:-1])),
            Case(f"{name}: garbage appended", _bytes(name, lambda d: d + b"\x00\xff" * 64)),
            Case(f"{name}: zeroed", _bytes(name, lambda d: bytearray(len(d)))),
        ]
        for position in (0.0, 0.1, 0.37, 0.5, 0.81, 0.999):
            for mask in (0x01, 0x80, 0xFF):
                cases.append(
                    Case(
                        f"{name}: byte {position:.0%} ^ {mask:#x}",
                        _bytes(name, _flip(position, mask)),
                    )
                )
    # Segments and the generation pack: array contents and descriptions.
    segments = [s["pack"]["name"] for s in manifest["segments"]]
    cases.append(Case("two segment files swapped", _swap_files(segments[0], segments[1])))
    cases.append(
        Case(
            "a segment and the generation swapped",
            _swap_files(segments[2], manifest["state"]["name"]),
        )
    )
    for number in range(len(segments)):

        def seg(m: dict[str, Any], n: int = number) -> dict[str, Any]:
            return dict(m["segments"][n]["pack"])

        def seg_live(m: dict[str, Any], n: int = number) -> dict[str, Any]:
            pack: dict[str, Any] = m["segments"][n]["pack"]
            return pack

        arrays = list(manifest["segments"][number]["pack"]["arrays"])
        for a, b in itertools.pairwise(arrays):
            cases.append(Case(f"seg {number}: {a} and {b} swapped", _swap_arrays(seg_live, a, b)))
        for array in arrays:
            current = manifest["segments"][number]["pack"]["arrays"][array][0]
            for dtype in ("<u2", "<u4", "<i8", "<f8", "|u1", "|O", "<U4", "bogus"):
                if dtype != current:
                    case = Case(
                        f"seg {number}: {array} as {dtype}", _set_dtype(seg_live, array, dtype)
                    )
                    cases.append(case)
        bad_docs: list[tuple[str, Callable[[np.ndarray[Any, Any]], np.ndarray[Any, Any]]]] = [
            ("docs past the end", lambda v: v + np.uint32(1_000)),
            ("docs huge", lambda v: np.full_like(v, 0xFFFFFFF0)),
            ("docs reversed", lambda v: v[::-1].copy()),
            ("docs of another segment", lambda v: np.zeros_like(v)),
        ]
        for label, change in bad_docs:
            cases.append(Case(f"seg {number}: {label}", _rewrite_array(seg, "docs", change)))
            cases.append(
                Case(f"seg {number}: {label}", _rewrite_array(seg, "docs", change), resealed=True)
            )
        for array, change in [
            ("starts", lambda v: v + 3),
            ("starts", lambda v: v[::-1].copy()),
            ("term_ids", lambda v: v + np.uint32(10_000)),
            ("term_ids", lambda v: v[::-1].copy()),
            ("keys", lambda v: v[::-1].copy()),
            ("keys", lambda v: v + 1),
            ("tfs", lambda v: np.zeros_like(v)),
            ("tfs", lambda v: np.where(np.arange(v.shape[0]) == 3, 0, v).astype(v.dtype)),
            ("term_bound", lambda v: np.zeros_like(v)),
            ("block_bound", lambda v: np.full_like(v, np.nan)),
            ("block_bound", lambda v: np.zeros_like(v)),
            ("bound_params", lambda v: -v),
            ("lengths", lambda v: np.full_like(v, 0xFFFFFFFF)),
        ]:
            cases.append(Case(f"seg {number}: {array} changed", _rewrite_array(seg, array, change)))
            cases.append(
                Case(
                    f"seg {number}: {array} changed",
                    _rewrite_array(seg, array, change),
                    resealed=True,
                )
            )

    def state(m: dict[str, Any]) -> dict[str, Any]:
        pack: dict[str, Any] = m["state"]
        return pack

    for array, change in [
        ("df", lambda v: v + 1_000),
        ("df", lambda v: v - 1_000),
        ("dead", lambda v: v + 10_000),
        ("dead", lambda v: -v - 1),
        ("dead", lambda v: v[::-1].copy()),
    ]:
        cases.append(Case(f"generation: {array} changed", _rewrite_array(state, array, change)))
        cases.append(
            Case(
                f"generation: {array} changed", _rewrite_array(state, array, change), resealed=True
            )
        )
    for array in ("df", "dead"):
        for dtype in ("<u2", "<f8", "|O"):
            cases.append(Case(f"generation: {array} as {dtype}", _set_dtype(state, array, dtype)))
    # Manifests of the wrong shape, with and without a matching checksum: an edit
    # changes the manifest in place, or returns the whole new text.
    edits: list[tuple[str, Callable[[dict[str, Any]], str | None]]] = [
        ("a list", lambda m: "[1, 2]"),
        ("null", lambda m: "null"),
        ("a string", lambda m: '"index"'),
        ("meta a list", lambda m: m.update(meta=[])),
        ("meta values not strings", lambda m: m.update(meta={"analyzer": 5})),
        ("segments an object", lambda m: m.update(segments={"a": 1})),
        ("segments of strings", lambda m: m.update(segments=["seg-1"])),
        ("segment without pack", lambda m: m["segments"][0].pop("pack") and None),
        ("negative live docs", lambda m: m.update(live_docs=-1)),
        ("live docs off by one", lambda m: m.update(live_docs=m["live_docs"] + 1)),
        ("vocab size off by one", lambda m: m.update(vocab_size=m["vocab_size"] - 1)),
        ("vocab bytes too many", lambda m: m.update(vocab_bytes=m["vocab_bytes"] + 100)),
        ("vocab bytes too few", lambda m: m.update(vocab_bytes=m["vocab_bytes"] - 3)),
        ("k1 a string", lambda m: m.update(k1="1.5")),
        ("k1 infinite", lambda m: m.update(k1=1e999)),
        ("generation a bool", lambda m: m.update(generation=True)),
        ("file outside the folder", lambda m: m["state"].update(name="../../etc/passwd")),
        ("segment named twice", lambda m: m["segments"].append(m["segments"][0])),
        ("segments reordered", lambda m: m["segments"].reverse()),
        ("a segment dropped", lambda m: m["segments"].pop(1) and None),
        ("array misaligned", lambda m: _layout(m, "docs").__setitem__(1, 3)),
        ("array past the end", lambda m: _layout(m, "docs").__setitem__(2, 10**9)),
        ("array missing", lambda m: m["segments"][0]["pack"]["arrays"].pop("tfs") and None),
        ("format 1", lambda m: m.update(format=1)),
        ("first key wrong", lambda m: m["segments"][1].update(first_key=0)),
        ("doc count wrong", lambda m: m["segments"][1].update(docs=m["segments"][1]["docs"] + 1)),
    ]
    for label, edit in edits:
        cases.append(Case(f"manifest {label}", _manifest_edit(edit, seal=False)))
        cases.append(Case(f"manifest {label}, checksum matching", _manifest_edit(edit, seal=True)))
    return cases


def _run_children(jobs: list[tuple[str, Path]]) -> dict[str, dict[str, Any]]:
    """Open every folder in child processes; a child that dies is reported by its case."""
    results: dict[str, dict[str, Any]] = {}
    pending = list(jobs)
    while pending:
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, json.dumps(QUERIES)],
            input="".join(f"{case}\t{path}\n" for case, path in pending),
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=300,
            check=False,
        )
        started = None
        for line in proc.stdout.splitlines():
            record = json.loads(line)
            if "start" in record:
                started = record["start"]
            else:
                results[record["case"]] = record
                started = None
        if proc.returncode == 0:
            break
        assert started is not None, proc.stderr
        results[started] = {"case": started, "outcome": f"crashed ({proc.returncode})"}
        done = list(results)
        pending = [(case, path) for case, path in pending if case not in done]
    return results


def test_every_damaged_index_is_refused_or_answers_exactly(tmp_path: Path) -> None:
    intact = tmp_path / "intact"
    index = _build(intact)
    expected_hits = [[[h.key, h.score] for h in index.search(q, 5)] for q in QUERIES]
    expected_keys = index.keys().tolist()
    assert all(expected_hits), "every query must find something in the intact index"
    cases = _cases(intact)
    jobs: list[tuple[str, Path]] = []
    by_name: dict[str, Case] = {}
    for number, case in enumerate(cases):
        name = f"{number:03d} {case.name}{' (resealed)' if case.resealed else ''}"
        folder = tmp_path / f"case-{number:03d}"
        shutil.copytree(intact, folder)
        case.damage(folder)
        if case.resealed:
            _reseal(folder)
        jobs.append((name, folder))
        by_name[name] = case
    results = _run_children(jobs)
    assert len(cases) > 300
    crashed = [n for n, r in results.items() if r["outcome"].startswith("crashed")]
    assert not crashed, crashed
    failures = []
    opened = refused = 0
    for name, result in results.items():
        outcome = result["outcome"]
        if outcome == "corrupt":
            refused += 1
            continue
        if by_name[name].resealed:
            # A forged index may open; it must never crash or fail to search.
            if outcome != "ok":
                failures.append((name, result))
            opened += outcome == "ok"
            continue
        if outcome != "ok" or result["hits"] != expected_hits or result["keys"] != expected_keys:
            failures.append((name, result))
        opened += 1
    assert not failures, failures[:5]
    assert refused > 0.9 * len(cases)
    # Harmless damage (a torn vocabulary tail) opens and answers as before.
    assert opened >= 1


def test_the_corpus_rebuilds_a_damaged_segment(tmp_path: Path) -> None:
    Corpus.open(tmp_path / "t.db", NOW).close()
    folder = tmp_path / "t.db.index"
    manifest = _manifest(folder)
    segment = folder / manifest["segments"][0]["pack"]["name"]
    data = bytearray(segment.read_bytes())
    data[len(data) // 2] ^= 0x40
    segment.write_bytes(bytes(data))
    corpus = Corpus.open(tmp_path / "t.db", NOW)
    try:
        assert len(corpus.index) == 25
        answer = corpus.answer("How many EV models did BYD unveil?")
        assert "unveiled five new EV models" in answer.hits[0].sentence.text
    finally:
        corpus.close()
    assert not segment.exists()  # swept: the rebuilt index no longer names it


@pytest.mark.parametrize("kind", ["seg", "gen", "vocab"])
def test_a_file_removed_from_under_the_index_is_a_rebuild(tmp_path: Path, kind: str) -> None:
    Corpus.open(tmp_path / "t.db", NOW).close()
    folder = tmp_path / "t.db.index"
    [victim] = [p for p in folder.iterdir() if p.name.startswith(kind)][:1]
    victim.unlink()
    corpus = Corpus.open(tmp_path / "t.db", NOW)
    try:
        assert len(corpus.index) == 25
        assert not corpus.answer("How many EV models did BYD unveil?").abstained
    finally:
        corpus.close()

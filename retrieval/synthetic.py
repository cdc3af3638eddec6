"""Deterministic synthetic text for benchmarks and tests: Zipf-distributed words.

One generator serves the retrieval benchmark (token lists), the Telegram load
benchmark (made-up sentences) and the index tests (random corpora): the same
seed always gives the same text, on any machine, with nothing downloaded.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["Zipf", "pronounceable_words"]


class Zipf:
    """Words drawn with probability proportional to ``1 / rank ** s`` (rank 1 = ``words[0]``)."""

    def __init__(self, words: Sequence[str], *, s: float = 1.0, seed: int = 0) -> None:
        if not words:
            raise ValueError("a Zipf vocabulary needs at least one word")
        self.words = np.array(list(words), dtype=object)
        self.seed = seed
        weights = 1.0 / np.arange(1, len(words) + 1) ** s
        cdf: npt.NDArray[np.float64] = np.cumsum(weights)
        cdf /= cdf[-1]
        self._cdf = cdf

    def __len__(self) -> int:
        return int(self.words.shape[0])

    def ranks(self, rng: np.random.Generator, n: int) -> npt.NDArray[np.int64]:
        """``n`` word ranks (0-based) drawn from the distribution."""
        drawn = np.searchsorted(self._cdf, rng.random(n), side="right")
        return np.minimum(drawn, len(self) - 1).astype(np.int64)

    def sample(self, rng: np.random.Generator, n: int) -> list[str]:
        """``n`` words drawn from the distribution."""
        return list(self.words[self.ranks(rng, n)])

    def passages(
        self,
        n: int,
        *,
        lengths: tuple[int, int] = (40, 80),
        stream: int = 0,
        batch: int = 50_000,
    ) -> Iterator[list[list[str]]]:
        """The first ``n`` token lists of stream ``stream``, ``batch`` at a time.

        Lengths are uniform in ``lengths`` (inclusive). Batch ``i`` of a stream
        depends only on (seed, stream, i), so a prefix is the same whatever ``n``.
        """
        low, high = lengths
        for number, start in enumerate(range(0, n, batch)):
            size = min(batch, n - start)
            rng = np.random.default_rng([self.seed, stream, number])
            counts = rng.integers(low, high + 1, size=size)
            tokens = self.words[self.ranks(rng, int(counts.sum()))]
            bounds = np.concatenate(([0], np.cumsum(counts)))
            yield [tokens[bounds[i] : bounds[i + 1]].tolist() for i in range(size)]

    def queries(
        self,
        n: int,
        *,
        terms: tuple[int, int] = (3, 6),
        bands: Sequence[tuple[int, int, float]] = (
            (0, 100, 0.3),
            (100, 10_000, 0.4),
            (10_000, -1, 0.3),
        ),
        stream: int = 99,
    ) -> list[list[str]]:
        """``n`` queries of ``terms`` words; each word is drawn uniformly from a rank band
        ``(first, stop, probability)`` (``stop`` -1: to the end of the vocabulary)."""
        rng = np.random.default_rng([self.seed, stream])
        probabilities = [p for _, _, p in bands]
        out: list[list[str]] = []
        for _ in range(n):
            query = []
            for _ in range(int(rng.integers(terms[0], terms[1] + 1))):
                first, stop, _ = bands[int(rng.choice(len(bands), p=probabilities))]
                stop = len(self) if stop < 0 else min(stop, len(self))
                query.append(str(self.words[int(rng.integers(first, stop))]))
            out.append(query)
        return out


def pronounceable_words(n: int, seed: int = 0) -> list[str]:
    """``n`` distinct made-up words of 2-4 syllables ("dakuse"), in a random order."""
    rng = np.random.default_rng([seed, 7])
    syllables = [c + v for c in "bdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai")]
    words: set[str] = set()
    while len(words) < n:
        picks = rng.integers(0, len(syllables), size=int(rng.integers(2, 5)))
        words.add("".join(syllables[int(i)] for i in picks))
    ordered = sorted(words)
    return [ordered[int(i)] for i in rng.permutation(len(ordered))]

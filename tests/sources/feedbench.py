"""How long `techbrief ingest URL --feed` takes for a local feed of N entries, progress bar shown.

    .venv/bin/python -m tests.sources.feedbench --entries 500

Serves a feed of N entries, each linking its own article page (two to three
paragraphs, distinct words), from a web server on 127.0.0.1, and runs the
real command line in a pseudo-terminal so that it draws its progress bar, on
a fresh database. Prints the bar's last state and the time taken.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

from tests.sources.test_ingest import BYD, NIO, PONY, rss
from tests.sources.webserver import Page, WebServer, html_page

ROOT = Path(__file__).resolve().parents[2]


def serve_feed(web: WebServer, entries: int) -> str:
    stories = [BYD, NIO, PONY]
    for n in range(entries):
        words = " ".join(f"{w}{n}" for w in ("alpha", "beta", "gamma", "delta", "omega") * 4)
        paragraphs = [f"Report {n} covers {words}.", *stories[n % 3]]
        web.route(f"/story/{n}", Page(body=html_page(f"Story number {n}", paragraphs)))
    items = [(f"/story/{n}", f"Story number {n}", f"Summary {n}") for n in range(entries)]
    web.route("/feed.xml", Page(body=rss(web, items), content_type="application/rss+xml"))
    return web.url("/feed.xml")


def run_in_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str, str, float]:
    """Run ``args`` with stderr on a pseudo-terminal; (status, stdout, terminal output, seconds)."""
    leader, follower = pty.openpty()
    # A new pseudo-terminal is 0x0; tqdm would draw a bar of width 0.
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    started = time.perf_counter()
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=follower, stdin=subprocess.DEVNULL, env=env, cwd=ROOT
    )
    os.close(follower)
    screen = bytearray()
    while True:
        ready, _, _ = select.select([leader], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            screen += chunk
        elif proc.poll() is not None:
            break
    stdout = proc.communicate()[0].decode()
    seconds = time.perf_counter() - started
    os.close(leader)
    return proc.returncode, stdout, screen.decode("utf-8", "replace"), seconds


def bench(entries: int, directory: Path) -> tuple[int, str, str, float]:
    with WebServer() as web:
        url = serve_feed(web, entries)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TECHBRIEF_", "TELEGRAM_"))}
        env.update(
            {
                "TECHBRIEF_DB": str(directory / "bench.db"),
                "TECHBRIEF_ALLOW_PRIVATE_URLS": "1",
                "PYTHONPATH": str(ROOT),
            }
        )
        return run_in_terminal([sys.executable, "-m", "bot", "ingest", url, "--feed"], env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        status, stdout, screen, seconds = bench(args.entries, Path(directory))
    bar = screen.replace("\r", "\n").strip().splitlines()
    print(bar[-1] if bar else "(no progress bar)")
    print(stdout.splitlines()[1] if len(stdout.splitlines()) > 1 else stdout)
    print(
        f"{args.entries} entries in {seconds:.1f} s ({args.entries / seconds:.1f} entries/s), "
        f"exit status {status}"
    )
    return status


if __name__ == "__main__":
    raise SystemExit(main())

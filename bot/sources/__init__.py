"""The network edge for sources: fetch (guarded, capped, retried), extract (trafilatura), feeds.

Nothing here touches SQLite or Telegram; :mod:`bot.core.ingest` ties these to the corpus.
"""

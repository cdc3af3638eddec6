"""Repeating jobs on PTB's JobQueue, scheduled from the composition root (``bot.telegram.app``):
the feed poll (``feeds``) and the digest tick (``digests``)."""

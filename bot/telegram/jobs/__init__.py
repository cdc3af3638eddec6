"""Jobs the Telegram bot runs on its JobQueue: the digest tick (``digests``)."""

"""The webhook server and the resync loop, in process and as the real `serve` process."""

"""The pure core of bootstrap-bot.

Everything here is a plain function or value over plain values: config models, decoding that
must match the Go tool, version selection, texts. No network, no disk, no clock, no environment:
callers pass in file contents, `now` and settings. Nothing here imports aiohttp, httpx, gidgethub,
pygit2, oras or kubernetes_asyncio (tests/unit/test_layers.py checks it), so every function can
be tested in microseconds and reused by the CLI, the webhook handlers and the resync alike.

Layer rule: imports golang, gotemplate and the pure ocm modules (model, graph, location,
credentials); PyYAML is its only outside library. `names` and `replies` define every name and
sentence the bot leaves on GitHub; `failures` is the one error hierarchy of every layer.
"""

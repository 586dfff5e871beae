"""The running App: `http` (the aiohttp app, `/webhook`, probes, `/metrics`), `webhook` (a
request into an event, pure), `resync` (the level-triggered catch-up loop) and `main` (the
composition root: the only place that builds clients).

Layer rule: may import anything below it (flows, services, adapters, core, kit, handlers).
"""

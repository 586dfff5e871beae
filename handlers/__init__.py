"""Webhook handlers, one module per webhook family, each with its own gidgethub Router.

`router` composes them; the webhook server dispatches every verified delivery through it.
Feature modules register themselves here as they are added.
"""

from gidgethub import routing

from handlers import ping, pull_request

router = routing.Router(ping.router, pull_request.router)

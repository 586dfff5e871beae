"""Webhook handlers, one module per webhook family, each with its own gidgethub Router.

`router` composes them; the webhook server dispatches every verified delivery through it.

Layer rule: imports flows, services and core; a handler finds its scope
(`bot.flows.scope`) and calls a flow, nothing more.
"""

from gidgethub import routing

from handlers import check_run, installation, issue_comment, ping, pull_request, push

router = routing.Router(
    check_run.router,
    installation.router,
    issue_comment.router,
    ping.router,
    pull_request.router,
    push.router,
)

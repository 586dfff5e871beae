"""The `bootstrap-bot` command line: `main` (the commands), `render` (the Go tool's
`manage-deployment-repo`, offline), `ocm` (component versions: build, show, transfer).

Layer rule: may import anything below it; nothing imports it.
"""

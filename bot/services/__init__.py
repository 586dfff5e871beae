"""Adapters composed for one landscape, with no knowledge of webhooks.

- `context`: what every job is given (settings, the App, the job queue, metrics, cache repos);
- `pipeline`: render a landscape (component graph, templates, kustomize) from a tree;
- `rerender`: render a branch and commit the result;
- `releases`: the versions of a landscape's root component in its registry;
- `landscapes`: a repository's landscapes, from its discovery file.

Layer rule: imports adapters, core, ocm, settings and kit; never flows, handlers, server or cli.
"""

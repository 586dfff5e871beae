"""The only code that touches the outside world, one outside library per adapter.

- `github`: GitHub's REST API (gidgethub over httpx) behind the `GitHubPort` the flows use;
- `gitrepo`: git (pygit2), with an async facade;
- `cluster`: the Kubernetes API (kubernetes_asyncio);
- `kustomize`: the kustomize binary;
- `leader`: Lease leader election (over `cluster`).

Layer rule: imports core values, settings and kit; each outside library is imported by exactly one
adapter; adapters do not import each other (leader -> cluster excepted). Synchronous libraries go
behind `bot.kit.jobs.in_thread` here (the job's own threads), so nothing above calls it.
"""

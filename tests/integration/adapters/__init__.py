"""The adapters against real peers and the contract-checked fakes: GitHub, git, kustomize,
the Lease."""

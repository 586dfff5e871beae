"""Go-runtime emulation: what the Go tool's libraries do, to the byte, as pure functions.

`strconv` (Go's number and string formatting, and encoding/json's marshalling), `yamlv2`
(gopkg.in/yaml.v2's decoding), `sigsyaml` (sigs.k8s.io/yaml's JSON round trip) and `semver`
(Masterminds/semver). Layer rule: imports only the standard library and PyYAML; nothing of bot.
Everything above leans on it; it leans on nothing.
"""

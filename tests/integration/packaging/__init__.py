"""What operators deploy: the Kustomize manifests, the image and the operator guide, run as
written."""

"""SSH keys (cryptography): the deploy keys Flux clones a landscape with."""

from __future__ import annotations

import asyncio

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519


def new_key_pair(comment: str) -> tuple[bytes, bytes]:
    """(OpenSSH private key, OpenSSH public key line) of a new Ed25519 key."""
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return private, public + b" " + comment.encode()


async def generate_key_pair(comment: str) -> tuple[bytes, bytes]:
    """`new_key_pair` off the event loop (key generation is CPU work)."""
    return await asyncio.to_thread(new_key_pair, comment)

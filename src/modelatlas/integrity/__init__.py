"""Integrity: the audit log as an RFC 6962 Merkle tree, signed checkpoints (C2SP signed
notes), inclusion and consistency proofs, and verification of the whole log.

``merkle`` is pure hashing and proofs; ``leaf`` the versioned leaf format; ``note`` signed
notes and keys; ``log`` the tree's SQL; ``verify`` the replay of a log against its heads.
"""

"""Secret ballots: sealed while the vote is open, counted from a shuffled batch written at close.

Why: a ballot row written next to its voter's participation row lines up with
it in every database however its columns look (SQLite's rowid, PostgreSQL's
physical position `ctid` and transaction id `xmin`, insertion order). So the
choice is never written in the clear while the vote is open:

* casting (ballot_seal, in the voter's transaction, with the Participation
  row) stores the ballot encrypted and padded to a size bucket, under a random
  UUID key, with no voter and no time. Whoever reads the database sees that a
  ballot arrived, as the governance log says anyway, never what it says;
* closing or withdrawing (ballots_unseal, under the proposal's row lock)
  decrypts every sealed ballot of the proposal, shuffles them
  (secrets.SystemRandom), writes them to SecretBallot in that order in one
  batch with fresh random keys, and deletes the sealed rows. All counted
  ballots share the closing transaction's id; their row order and keys are the
  shuffle's.

The key is derived from the SECRET_KEY per proposal (HMAC), never stored in
the database; SECRET_KEY_FALLBACKS still open ballots sealed before a key
rotation. Encryption is HMAC-SHA256 in counter mode with a random 16-byte
nonce, then HMAC-SHA256 over the proposal id, nonce and ciphertext with a
separate key (encrypt-then-MAC; the standard library has no AEAD). A sealed
ballot that does not authenticate stops the close with an error rather than
being dropped. Residual risk: see "Secret ballots" in the README.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import struct
import uuid
from contextlib import contextmanager

from django.conf import settings
from django.db import connection
from django.utils.crypto import salted_hmac

from coop.errors import ApplicationError
from governance.error_codes import GovernanceErrorCode

from ..models import Proposal, SealedBallot, SecretBallot

FORMAT = b"\x01"
NONCE_BYTES = 16
TAG_BYTES = 32
MIN_PADDED = 1024  # every ordinary ballot (a choice, a score, a short reason or ranking) has this size


def _keys(proposal_id: int, secret: str) -> tuple[bytes, bytes]:
    value = f"proposal:{proposal_id}"
    encrypt = salted_hmac("governance.sealed_ballot.encrypt", value, secret=secret, algorithm="sha256").digest()
    authenticate = salted_hmac("governance.sealed_ballot.authenticate", value, secret=secret, algorithm="sha256").digest()
    return encrypt, authenticate


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (length + 31) // 32
    return b"".join(hmac.digest(key, nonce + struct.pack(">Q", i), hashlib.sha256) for i in range(blocks))[:length]


def _xor(data: bytes, stream: bytes) -> bytes:
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(len(data), "big")


def _tag(key: bytes, proposal_id: int, nonce: bytes, ciphertext: bytes) -> bytes:
    return hmac.digest(key, FORMAT + struct.pack(">Q", proposal_id) + nonce + ciphertext, hashlib.sha256)


def _pad(plain: bytes) -> bytes:
    """Length prefix, then zeros up to a power of two (at least MIN_PADDED): the size says nothing about the choice."""
    framed = struct.pack(">I", len(plain)) + plain
    size = MIN_PADDED
    while size < len(framed):
        size *= 2
    return framed + b"\x00" * (size - len(framed))


def _unpad(padded: bytes) -> bytes:
    (length,) = struct.unpack(">I", padded[:4])
    return padded[4 : 4 + length]


def seal(*, proposal_id: int, ballot: dict) -> bytes:
    """Encrypt a cleaned ballot ({"choice", "score", "ranking", "reason"}) for `proposal_id`."""
    content = {
        "choice": ballot["choice"],
        "score": None if ballot.get("score") is None else str(ballot["score"]),
        "ranking": list(ballot.get("ranking") or []),
        "reason": ballot.get("reason") or "",
    }
    plain = _pad(json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode())
    encrypt, authenticate = _keys(proposal_id, settings.SECRET_KEY)
    nonce = secrets.token_bytes(NONCE_BYTES)
    ciphertext = _xor(plain, _keystream(encrypt, nonce, len(plain)))
    return FORMAT + nonce + ciphertext + _tag(authenticate, proposal_id, nonce, ciphertext)


def unseal(*, proposal_id: int, sealed: bytes) -> dict:
    """Decrypt a sealed ballot of `proposal_id`. Raises ApplicationError if it does not authenticate."""
    sealed = bytes(sealed)
    nonce, ciphertext, tag = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES : -TAG_BYTES], sealed[-TAG_BYTES:]
    if sealed[:1] == FORMAT and ciphertext:
        for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
            encrypt, authenticate = _keys(proposal_id, secret)
            if hmac.compare_digest(tag, _tag(authenticate, proposal_id, nonce, ciphertext)):
                content = json.loads(_unpad(_xor(ciphertext, _keystream(encrypt, nonce, len(ciphertext)))))
                return {
                    "choice": content["choice"],
                    "score": content["score"],
                    "ranking": content["ranking"],
                    "reason": content["reason"],
                }
    raise ApplicationError(
        "A sealed secret ballot could not be opened (was the SECRET_KEY changed without keeping the old one in "
        "SECRET_KEY_FALLBACKS?). The vote stays open; nothing was counted.",
        code=GovernanceErrorCode.SEALED_BALLOT_UNREADABLE,
        status=500,
    )


def ballot_seal(*, proposal: Proposal, ballot: dict) -> None:
    """Store a cleaned ballot sealed. Called by ballot_cast in the voter's transaction, after the Participation row."""
    SealedBallot.objects.create(proposal=proposal, sealed=seal(proposal_id=proposal.pk, ballot=ballot))


def ballots_unseal(*, proposal: Proposal) -> int:
    """Move a proposal's sealed ballots to SecretBallot: decrypted, shuffled, fresh random keys, one batch.

    Must be called holding the proposal row FOR UPDATE (closing or withdrawing),
    which waits for votes in flight (they hold it FOR SHARE) and keeps new ones
    out. Returns how many ballots were moved. Idempotent: a second call finds
    nothing sealed.
    """
    sealed = list(SealedBallot.objects.filter(proposal=proposal).values_list("sealed", flat=True))
    ballots = [unseal(proposal_id=proposal.pk, sealed=item) for item in sealed]
    secrets.SystemRandom().shuffle(ballots)
    SecretBallot.objects.bulk_create([SecretBallot(id=uuid.uuid4(), proposal=proposal, **ballot) for ballot in ballots])
    with _zeroing_deletes():
        SealedBallot.objects.filter(proposal=proposal).delete()
    return len(ballots)


@contextmanager
def _zeroing_deletes():
    """On SQLite, overwrite the deleted sealed rows' bytes in the database file (PRAGMA secure_delete).

    PostgreSQL keeps dead row versions until VACUUM, which cannot run inside the closing transaction; the README
    says what that leaves.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete")
        previous = cursor.fetchone()[0]
        cursor.execute("PRAGMA secure_delete = ON")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA secure_delete = {int(previous)}")

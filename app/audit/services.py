"""Write and verify the audit trail.

Every feature calls `record()` inside its own transaction, before its single commit, so the
change and its trace are stored together or not at all."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from app.audit.models import GENESIS_HASH, AuditEvent
from app.db_types import utcnow
from app.extensions import db

PLATFORM_CHAIN = "plateforme"
MAX_APPEND_ATTEMPTS = 20


def chain_of(contract_id: int | None) -> str:
    return f"contrat:{contract_id}" if contract_id else PLATFORM_CHAIN


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date | Decimal):
        return str(value)
    raise TypeError(f"not serialisable in the audit trail: {type(value).__name__}")


def text_digest(text: str) -> str:
    """Free text (a message, notes, a summary) goes into the trail as its SHA-256: the trail
    proves what was written without repeating it (an internal note stays on its side)."""
    return hashlib.sha256(text.encode()).hexdigest()


def canonical_json(data: Any) -> str:
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    )


def _record_body(event: AuditEvent) -> dict:
    return {
        "chain": event.chain,
        "seq": event.seq,
        "contract_id": event.contract_id,
        "ts": event.ts,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "payload": event.payload,
    }


def compute_hash(prev_hash: str, event: AuditEvent) -> str:
    body = canonical_json(_record_body(event)).encode()
    return hashlib.sha256(bytes.fromhex(prev_hash) + body).hexdigest()


def _head(chain: str) -> AuditEvent | None:
    return db.session.scalar(
        select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.seq.desc()).limit(1)
    )


def _lock_chain(chain: str) -> None:
    """On PostgreSQL, appenders to one chain take turns until their transaction ends, so
    none of them reads a head that another is about to replace (SQLite's BEGIN IMMEDIATE
    already serialises writers)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:chain))"), {"chain": f"audit:{chain}"}
        )


def record(
    action: str,
    *,
    actor=None,
    contract_id: int | None = None,
    object_type: str = "",
    object_id: Any = "",
    before: dict | None = None,
    after: dict | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Append one entry to the chain of `contract_id` (or the platform's), without committing.

    Appenders take turns per chain (`_lock_chain`); should two still read the same head, they
    collide on UNIQUE(chain, seq) and the loser retries inside a savepoint, so the chain never
    forks and the caller's transaction survives."""
    payload = canonical_json({"before": before, "after": after})
    chain = chain_of(contract_id)
    _lock_chain(chain)
    label = actor_label if actor_label is not None else (actor.email if actor else "système")
    for _attempt in range(MAX_APPEND_ATTEMPTS):
        head = _head(chain)
        event = AuditEvent(
            chain=chain,
            seq=(head.seq + 1) if head else 1,
            contract_id=contract_id,
            ts=utcnow(),
            actor_id=actor.id if actor else None,
            actor_label=label,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            payload=payload,
            prev_hash=head.hash if head else GENESIS_HASH,
        )
        event.hash = compute_hash(event.prev_hash, event)
        try:
            with db.session.begin_nested():
                db.session.add(event)
        except IntegrityError:
            continue
        return event
    raise RuntimeError(f"audit chain {chain}: could not append after {MAX_APPEND_ATTEMPTS} tries")


@dataclass
class ChainReport:
    chain: str
    entries: int
    head_hash: str
    broken_at: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain(chain: str) -> ChainReport:
    """Recompute every hash in order; report the first entry that was edited, removed or moved."""
    prev_hash, expected_seq, count = GENESIS_HASH, 1, 0
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.chain == chain)
        .order_by(AuditEvent.seq)
        .execution_options(populate_existing=True)  # what is stored, not what we remember
    )
    for event in events:
        count += 1
        if event.seq != expected_seq:
            return ChainReport(chain, count, prev_hash, expected_seq, "entrée manquante")
        if event.prev_hash != prev_hash:
            return ChainReport(chain, count, prev_hash, event.seq, "chaînage rompu")
        if compute_hash(prev_hash, event) != event.hash:
            return ChainReport(chain, count, prev_hash, event.seq, "contenu modifié")
        prev_hash, expected_seq = event.hash, expected_seq + 1
    return ChainReport(chain, count, prev_hash)


def verify_all() -> list[ChainReport]:
    chains = db.session.scalars(select(AuditEvent.chain).distinct().order_by(AuditEvent.chain))
    return [verify_chain(chain) for chain in chains]


def head_hash(contract_id: int | None) -> str:
    head = _head(chain_of(contract_id))
    return head.hash if head else GENESIS_HASH

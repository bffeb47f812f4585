"""The audit trail: append-only, one SHA-256 chain per contract, tampering pinpointed."""

import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from app.audit import services as audit
from app.audit.models import GENESIS_HASH, AuditEvent
from app.extensions import db


def record_some(world, count=5):
    for n in range(count):
        audit.record(
            "essai",
            actor=world.buyer_lead,
            contract_id=world.contract.id,
            object_type="objective",
            object_id=n,
            before={"title": f"v{n}"},
            after={"title": f"v{n + 1}", "montant": "12,50 €"},
        )
    db.session.commit()


def chain_of_contract(world):
    return audit.chain_of(world.contract.id)


def tamper(sql: str):
    """Edit the trail behind the app's back, as someone with direct database access could."""
    db.session.commit()  # our own transaction would hold SQLite's write lock
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET session_replication_role = replica"))
            connection.execute(text(sql))
        else:
            connection.execute(text("DROP TRIGGER audit_event_no_update"))
            connection.execute(text("DROP TRIGGER audit_event_no_delete"))
            connection.execute(text(sql))


def test_each_contract_has_its_own_chain_starting_from_genesis(world):
    record_some(world)
    first = db.session.scalar(
        select(AuditEvent).where(AuditEvent.chain == chain_of_contract(world), AuditEvent.seq == 1)
    )
    assert first.prev_hash == GENESIS_HASH
    reports = {r.chain: r for r in audit.verify_all()}
    assert reports[chain_of_contract(world)].ok
    assert reports[audit.chain_of(world.other_contract.id)].ok
    assert reports[chain_of_contract(world)].entries >= 5


def test_the_database_refuses_to_update_or_delete_audit_entries(world):
    record_some(world, 1)
    for statement in ("UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(DatabaseError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()


def test_an_edited_entry_is_reported_at_its_sequence_number(world):
    record_some(world)
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.chain == chain_of_contract(world), AuditEvent.seq == 4)
    )
    tamper(f"UPDATE audit_event SET payload = '{{}}' WHERE id = {event.id}")
    report = audit.verify_chain(chain_of_contract(world))
    assert (report.ok, report.broken_at, report.reason) == (False, 4, "contenu modifié")


def test_a_deleted_entry_is_reported(world):
    record_some(world)
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.chain == chain_of_contract(world), AuditEvent.seq == 3)
    )
    tamper(f"DELETE FROM audit_event WHERE id = {event.id}")
    report = audit.verify_chain(chain_of_contract(world))
    assert (report.broken_at, report.reason) == (3, "entrée manquante")


def test_an_entry_rewritten_with_a_fresh_hash_breaks_the_next_link(world):
    record_some(world)
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.chain == chain_of_contract(world), AuditEvent.seq == 2)
    )
    tamper(f"UPDATE audit_event SET hash = '{'a' * 64}' WHERE id = {event.id}")
    report = audit.verify_chain(chain_of_contract(world))
    assert report.broken_at == 2


def test_flask_audit_verify_exits_non_zero_on_tampering(app, world):
    record_some(world)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "intègre" in ok.output
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.chain == chain_of_contract(world), AuditEvent.seq == 2)
    )
    tamper(f"UPDATE audit_event SET actor_label = 'quelqu''un d''autre' WHERE id = {event.id}")
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert "ROMPUE à l'entrée 2" in broken.output


def test_concurrent_writers_never_fork_the_chain(app, world):
    contract_id, actor_id = world.contract.id, world.buyer_lead.id
    before = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.contract_id == contract_id)
    )
    db.session.commit()
    errors = []

    def writer(n):
        try:
            with app.app_context():
                for k in range(10):
                    audit.record(
                        "concurrence",
                        actor=None,
                        actor_label=f"writer-{n}",
                        contract_id=contract_id,
                        object_id=f"{n}-{k}-{actor_id}",
                    )
                    db.session.commit()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = audit.verify_chain(chain_of_contract(world))
    assert report.ok
    assert report.entries == before + 200

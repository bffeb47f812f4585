"""Periods, the trajectory, the status rule, entering, correcting and validating values."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.errors import Conflict, DomainError, NotAllowed
from app.extensions import db
from app.indicators import services
from app.indicators.periods import expected_at, periods

TODAY = date(2027, 8, 15)


@pytest.mark.parametrize(
    ("periodicity", "baseline", "until", "labels"),
    [
        (
            "trimestrielle",
            date(2026, 12, 31),
            date(2027, 12, 31),
            ["T1 2027", "T2 2027", "T3 2027", "T4 2027"],
        ),
        ("trimestrielle", date(2026, 11, 15), date(2027, 3, 1), ["T1 2027"]),
        ("semestrielle", date(2026, 3, 1), date(2027, 12, 31), ["S2 2026", "S1 2027", "S2 2027"]),
        ("annuelle", date(2025, 6, 1), date(2027, 1, 1), ["2026", "2027"]),
        (
            "mensuelle",
            date(2027, 1, 20),
            date(2027, 4, 2),
            ["févr. 2027", "mars 2027", "avr. 2027"],
        ),
    ],
)
def test_periods_follow_the_calendar_after_the_baseline(app, periodicity, baseline, until, labels):
    with app.test_request_context():
        assert [p.label for p in periods(periodicity, baseline, until)] == labels


def test_a_period_is_due_once_ended():
    (q1, q2) = periods("trimestrielle", date(2026, 12, 31), date(2027, 6, 1))
    assert (q1.start, q1.end) == (date(2027, 1, 1), date(2027, 3, 31))
    assert q1.is_due(date(2027, 4, 1)) and not q2.is_due(date(2027, 6, 30))


def test_the_trajectory_runs_through_baseline_milestones_and_target(indicator):
    assert expected_at(indicator, date(2026, 12, 1)) is None  # before the baseline
    assert expected_at(indicator, date(2026, 12, 31)) == Decimal("12")
    assert expected_at(indicator, date(2027, 6, 30)) == Decimal("20")
    assert round(expected_at(indicator, date(2027, 9, 30)), 1) == Decimal("25.0")
    assert expected_at(indicator, date(2028, 6, 1)) == Decimal("30")  # flat after the target


def test_status_rule(app, world, indicator, member):
    supplier = member(world.supplier_lead)

    def state():
        values = services.measurements_of(world.contract, indicator.uid)
        return services.state_of(indicator, world.contract, values, TODAY)

    with app.test_request_context():
        assert state().status == "non_renseigne" and len(state().missing) == 2  # T1, T2 due
        services.enter_value(
            world.contract,
            supplier,
            indicator,
            period_start=date(2027, 1, 1),
            value="15,5",
            today=TODAY,
        )
        assert state().status == "non_renseigne"  # T2 is due and missing
        services.enter_value(
            world.contract,
            supplier,
            indicator,
            period_start=date(2027, 4, 1),
            value="19",
            today=TODAY,
        )
        assert state().status == "sous_la_trajectoire"  # 19 < 20 expected on 30 June
        services.enter_value(world.contract, supplier, indicator, period_start=date(2027, 4, 1),
                             value="21", seen_version=1, today=TODAY)  # fmt: skip
        s = state()
        assert s.status == "sur_la_trajectoire" and s.expected == Decimal("20") and s.missing == []
        indicator.direction = "baisse"
        assert state().status == "sous_la_trajectoire"


def test_states_read_in_bulk_give_what_the_rule_gives_from_the_values(
    app, world, indicator, member
):
    """The indicator list and the dashboard read each indicator's values summed up by the
    database (`values_read`): the same state as from the list of its values."""
    from app.indicators.models import Measurement

    supplier, buyer = member(world.supplier_lead), member(world.buyer_lead)

    def both():
        (bulk,) = [s for s in services.states(world.contract, TODAY) if s.indicator is indicator]
        values = services.measurements_of(world.contract, indicator.uid)
        return bulk, services.state_of(indicator, world.contract, values, TODAY)

    def seen(state):
        latest = state.latest and (state.latest.period_start, state.latest.value)
        missing = [p.start for p in state.missing]
        return state.status, latest, state.expected, missing, state.to_validate

    with app.test_request_context():
        bulk, listed = both()
        assert seen(bulk) == seen(listed) == ("non_renseigne", None, None,
                                              [date(2027, 1, 1), date(2027, 4, 1)], 0)  # fmt: skip
        first = services.enter_value(world.contract, supplier, indicator,
                                     period_start=date(2027, 1, 1), value="15", today=TODAY)  # fmt: skip
        # T3 has begun (a value may be entered) but is not due.
        services.enter_value(world.contract, supplier, indicator, period_start=date(2027, 7, 1),
                             value="26", today=TODAY)  # fmt: skip
        services.validate_value(world.contract, buyer, first, decision="validee",
                                seen_version=first.version)  # fmt: skip
        # A value left on a day that starts no period (the periodicity changed) fills none.
        db.session.add(Measurement(contract_id=world.contract.id, indicator_uid=indicator.uid,
                                   period_start=date(2027, 4, 15), period_end=date(2027, 5, 14),
                                   value=Decimal("1"), entered_by_side="titulaire"))  # fmt: skip
        db.session.commit()
        bulk, listed = both()
        assert seen(bulk) == seen(listed) == ("non_renseigne", (date(2027, 7, 1), Decimal("26")),
                                              None, [date(2027, 4, 1)], 2)  # fmt: skip
        services.enter_value(world.contract, supplier, indicator, period_start=date(2027, 4, 1),
                             value="19", today=TODAY)  # fmt: skip
        bulk, listed = both()  # 26 against 25 expected on 30 September
        assert seen(bulk) == seen(listed) == ("sur_la_trajectoire", (date(2027, 7, 1), Decimal("26")),
                                              Decimal("25"), [], 3)  # fmt: skip
        assert bulk.latest.period_end == date(2027, 9, 30)
        assert services.values_read([]) == {}


def test_who_enters_and_who_validates(app, world, indicator, member):
    with app.test_request_context():
        with pytest.raises(NotAllowed, match="titulaire"):
            services.enter_value(world.contract, member(world.buyer_lead), indicator,
                                 period_start=date(2027, 1, 1), value="15", today=TODAY)  # fmt: skip
        with pytest.raises(NotAllowed):
            services.enter_value(world.contract, member(world.observer), indicator,
                                 period_start=date(2027, 1, 1), value="15", today=TODAY)  # fmt: skip
        value = services.enter_value(world.contract, member(world.supplier_contributor), indicator,
                                     period_start=date(2027, 1, 1), value="15", today=TODAY)  # fmt: skip
        with pytest.raises(NotAllowed):  # not by the side that entered it
            services.validate_value(world.contract, member(world.supplier_lead), value,
                                    decision="validee", seen_version=value.version)  # fmt: skip
        with pytest.raises(DomainError):  # questioning needs a reason
            services.validate_value(world.contract, member(world.buyer_lead), value,
                                    decision="questionnee", seen_version=value.version)  # fmt: skip
        services.validate_value(world.contract, member(world.buyer_lead), value, decision="questionnee",
                                note="Source ?", seen_version=value.version)  # fmt: skip
        assert value.validation == "questionnee"
        services.enter_value(world.contract, member(world.supplier_lead), indicator,
                             period_start=date(2027, 1, 1), value="16", seen_version=value.version, today=TODAY)  # fmt: skip
        assert value.validation == "a_valider"  # a corrected number needs a new validation
        services.validate_value(world.contract, member(world.buyer_contributor), value,
                                decision="validee", seen_version=value.version)  # fmt: skip
        assert value.validation == "validee"
        assert [e.action for e in value.events] == [
            "saisie",
            "question",
            "correction",
            "validation",
        ]
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "mesure").order_by(AuditEvent.id)
    ).all()
    assert actions == ["mesure.saisie", "mesure.questionnee", "mesure.correction", "mesure.validee"]


def test_refusals_of_bad_input_and_stale_corrections(app, world, indicator, member):
    supplier = member(world.supplier_lead)
    with app.test_request_context():
        for bad in ("douze", "", "1e999", "NaN", "1e14"):
            with pytest.raises(DomainError) as error:
                services.enter_value(world.contract, supplier, indicator,
                                     period_start=date(2027, 1, 1), value=bad, today=TODAY)  # fmt: skip
            assert error.value.field == "value"
        with pytest.raises(DomainError) as error:  # not a period start
            services.enter_value(
                world.contract,
                supplier,
                indicator,
                period_start=date(2027, 1, 2),
                value="1",
                today=TODAY,
            )
        assert error.value.field == "period_start"
        with pytest.raises(DomainError):  # a period that has not begun
            services.enter_value(
                world.contract,
                supplier,
                indicator,
                period_start=date(2027, 10, 1),
                value="1",
                today=TODAY,
            )
        services.enter_value(
            world.contract,
            supplier,
            indicator,
            period_start=date(2027, 1, 1),
            value="1 234,5",
            today=TODAY,
        )
        with pytest.raises(
            Conflict, match="déjà été saisie"
        ):  # a second entry without having seen the first
            services.enter_value(world.contract, member(world.supplier_contributor), indicator,
                                 period_start=date(2027, 1, 1), value="2", today=TODAY)  # fmt: skip
        assert services.measurements_of(world.contract)[0].value == Decimal("1234.5")


def test_states_take_a_constant_number_of_queries(
    app, world, draft, indicator, count_queries, member
):
    from app.plan import services as items

    def measure():
        db.session.commit()  # as in a request: a fresh transaction, nothing already loaded
        with app.test_request_context(), count_queries() as queries:
            services.states(world.contract, TODAY)
            return queries()

    few = measure()
    for n in range(8):
        items.create_item(draft.version, "indicateur", {"name": f"Indicateur {n}", "unit": "%"},
                          parent=draft.objective, actor=world.supplier_lead)  # fmt: skip
    assert measure() == few


def test_one_indicator_is_read_with_its_version_objective_and_milestones(
    app, world, draft, indicator, count_queries
):
    import gc

    from app.contracts.models import Contract

    uid, version_id, objective_id = indicator.uid, draft.version.id, draft.objective.id
    contract_id = world.contract.id
    db.session.commit()
    db.session.expunge_all()  # as in a request: nothing already in the session
    with app.test_request_context():
        found = services.indicator_by_uid(db.session.get(Contract, contract_id), uid)
        gc.collect()  # what the session held only weakly is gone
        with count_queries() as queries:
            assert found.plan_version.id == version_id
            assert found.objective.id == objective_id
            assert [m.due_date for m in found.milestones] == [date(2027, 6, 30)]
        assert queries() == 0


def test_chart_geometry(app, world, indicator, member):
    with app.test_request_context():
        services.enter_value(world.contract, member(world.supplier_lead), indicator,
                             period_start=date(2027, 1, 1), value="15", today=TODAY)  # fmt: skip
        g = services.chart(
            indicator, world.contract, services.measurements_of(world.contract), TODAY
        )
    assert len(g["points"]) == 1 and len(g["milestones"]) == 1
    assert g["target"].count(",") == 3  # baseline, milestone, target
    assert g["left"] <= g["today"] <= g["right"]
    assert g["yticks"][0][0] == 0


def test_a_baseline_on_a_periods_first_day_makes_it_the_first_measured():
    (first, *_rest) = periods("trimestrielle", date(2026, 7, 1), date(2026, 12, 31))
    assert (first.start, first.end) == (date(2026, 7, 1), date(2026, 9, 30))


def test_a_correction_that_loses_the_race_is_a_conflict_not_a_crash(
    app, world, indicator, member, monkeypatch
):
    """Between the version check and the write, someone else saves: the write finds no row of
    the version it read (StaleDataError) and the person gets a 409, nothing half-saved."""
    from sqlalchemy import text

    supplier = member(world.supplier_lead)
    with app.test_request_context():
        value = services.enter_value(world.contract, supplier, indicator, period_start=date(2027, 1, 1),
                                     value="15", today=TODAY)  # fmt: skip
        seen = value.version
        real = services._append_event

        def someone_else_saves_first(measurement, *args):
            db.session.execute(text("UPDATE measurement SET version = version + 1 WHERE id = :id"),
                               {"id": measurement.id})  # fmt: skip
            real(measurement, *args)

        monkeypatch.setattr(services, "_append_event", someone_else_saves_first)
        with pytest.raises(Conflict):
            services.enter_value(world.contract, supplier, indicator, period_start=date(2027, 1, 1),
                                 value="16", seen_version=seen, today=TODAY)  # fmt: skip


def test_two_first_values_of_one_period_at_once_are_a_conflict_not_a_crash(
    app, world, indicator, member, monkeypatch
):
    """Both read « no value yet » and insert: the second meets the unique key (period) and the
    person gets a 409, never a 500 (bench/load.py found it on PostgreSQL)."""
    from app.indicators.models import Measurement

    supplier = member(world.supplier_lead)
    with app.test_request_context():
        real = services._append_event

        def someone_else_inserts_first(measurement, *args):
            with db.session.no_autoflush:
                db.session.add(Measurement(
                    contract_id=measurement.contract_id, indicator_uid=measurement.indicator_uid,
                    period_start=measurement.period_start, period_end=measurement.period_end,
                    value=Decimal("14"), source="saisie", entered_by_id=measurement.entered_by_id,
                    entered_by_side=measurement.entered_by_side,
                ))  # fmt: skip
            real(measurement, *args)

        monkeypatch.setattr(services, "_append_event", someone_else_inserts_first)
        with pytest.raises(Conflict):
            services.enter_value(world.contract, supplier, indicator, period_start=date(2027, 1, 1),
                                 value="15", today=TODAY)  # fmt: skip
    assert db.session.scalar(select(func.count()).select_from(Measurement)) == 0

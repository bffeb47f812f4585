"""`flask` commands an administrator runs."""

from sqlalchemy import func, select

from app.contracts.models import Contract, Membership
from app.demo.data import DEMO_PASSWORD
from app.extensions import db
from app.organisations.models import Organisation
from tests.helpers import emails_to


def test_demo_load_creates_two_contracts_once(app):
    runner = app.test_cli_runner()
    assert "chargées" in runner.invoke(args=["demo", "load"]).output
    assert "déjà présente" in runner.invoke(args=["demo", "load"]).output
    assert db.session.scalar(select(func.count()).select_from(Contract)) == 2
    roles = set(db.session.execute(select(Membership.side, Membership.role)).all())
    assert roles == {
        ("acheteur", "referent"), ("acheteur", "contributeur"), ("acheteur", "observateur"),
        ("titulaire", "referent"), ("titulaire", "contributeur"),
    }  # fmt: skip


def test_demo_accounts_log_in_with_the_readme_password(app, client):
    app.test_cli_runner().invoke(args=["demo", "load"])
    response = client.post(
        "/connexion",
        data={"email": "sophie.durand@textiles-rhone.example", "password": DEMO_PASSWORD},
    )
    assert response.status_code == 302


def test_demo_is_refused_in_production(make_app):
    production = make_app("production", SECRET_KEY="s" * 40)
    result = production.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0 and "production" in result.output


def test_org_and_contract_creation_from_the_command_line(app, tmp_path):
    runner = app.test_cli_runner()
    bad = runner.invoke(
        args=["org", "create", "--name", "X", "--siret", "12345678901234", "--kind", "entreprise",
              "--size", "PME"],
    )  # fmt: skip
    assert bad.exit_code != 0 and "SIRET" in bad.output
    for name, siret, kind in [
        ("Métropole de Lyon", "20004697700019", "acheteur_public"),
        ("Textiles Rhône SAS", "91234567800011", "entreprise"),
    ]:
        extra = ["--size", "PME"] if kind == "entreprise" else []
        result = runner.invoke(
            args=["org", "create", "--name", name, "--siret", siret, "--kind", kind, *extra]
        )
        assert result.exit_code == 0, result.output
    clause = tmp_path / "clause.md"
    clause.write_text("Les parties **élaborent** un plan.", encoding="utf-8")
    result = runner.invoke(
        args=["contract", "create", "--reference", "2027-0009", "--object", "Vêtements",
              "--category", "fournitures", "--notified", "2027-01-10", "--months", "24",
              "--amount", "98000,00", "--buyer-siret", "20004697700019",
              "--supplier-siret", "91234567800011", "--lead-email", "lead@acheteur.example",
              "--clause-file", str(clause)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    contract = db.session.scalar(select(Contract).where(Contract.reference == "2027-0009"))
    assert contract.progress_clause.startswith("Les parties")
    assert str(contract.initial_amount_ht) == "98000.00"
    assert emails_to("lead@acheteur.example", "invitation")
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 2


def test_admin_account_creation(app):
    result = app.test_cli_runner().invoke(
        args=["admin", "create", "--email", "Root@Progres.example", "--name", "Admin"],
        input="lilas-carrousel-voilier-17\nlilas-carrousel-voilier-17\n",
    )
    assert result.exit_code == 0, result.output

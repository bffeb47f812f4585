"""`flask` commands: administration, demo data, audit verification, e-mail outbox."""

from datetime import date
from decimal import Decimal, InvalidOperation

import click
from flask import Flask
from flask.cli import AppGroup

from app.errors import DomainError
from app.extensions import db

admin_cli = AppGroup("admin", help="Comptes administrateurs.")
org_cli = AppGroup("org", help="Organisations (acheteurs publics, entreprises).")
contract_cli = AppGroup("contract", help="Marchés.")
audit_cli = AppGroup("audit", help="Journal d'audit chaîné.")
outbox_cli = AppGroup("outbox", help="File d'envoi des e-mails.")
demo_cli = AppGroup("demo", help="Données de démonstration.")
notifications_cli = AppGroup("notifications", help="Relances et résumés quotidiens (cron).")
db_roles_cli = AppGroup("db-roles", help="Rôles PostgreSQL : droits du rôle de l'application.")


def _fail(error: DomainError):
    db.session.rollback()
    raise click.ClickException(error.message)


@admin_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True)
@click.password_option()
def create_admin(email, full_name, password):
    """Créer un compte administrateur."""
    from app.auth import services as accounts
    from app.auth.models import User

    if accounts.user_by_email(email):
        raise click.ClickException("Un compte existe déjà pour cette adresse.")
    user = User(email=accounts.normalize_email(email), full_name=full_name, is_admin=True)
    try:
        accounts.set_password(user, password)
    except DomainError as error:
        _fail(error)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Administrateur {user.email} créé.")


@admin_cli.command("reset-2fa")
@click.option("--email", required=True)
def reset_two_factor(email):
    """Désactiver la double authentification d'une personne qui a perdu son téléphone et ses
    codes de secours (ses sessions sont fermées ; vérifiez son identité avant)."""
    from app.auth import services as accounts
    from app.auth import two_factor

    user = accounts.user_by_email(email)
    if user is None:
        raise click.ClickException("Aucun compte pour cette adresse.")
    if not user.has_two_factor:
        raise click.ClickException("La double authentification n'est pas activée sur ce compte.")
    two_factor.reset_by_administrator(user)
    click.echo(f"Double authentification désactivée pour {user.email} ; ses sessions sont fermées.")


@org_cli.command("create")
@click.option("--name", required=True)
@click.option("--siret", required=True)
@click.option("--kind", type=click.Choice(["acheteur_public", "entreprise"]), required=True)
@click.option("--size", type=click.Choice(["TPE", "PME", "ETI", "GE"]))
@click.option("--ess", is_flag=True, help="Structure de l'économie sociale et solidaire.")
def create_org(name, siret, kind, size, ess):
    """Créer une organisation (SIRET vérifié par sa clé de Luhn)."""
    from app.organisations.services import create_organisation

    try:
        organisation = create_organisation(
            name=name, siret=siret, kind=kind, size=size, ess=ess, actor=None
        )
    except DomainError as error:
        _fail(error)
    click.echo(f"Organisation {organisation.id} créée : {organisation.name}.")


@contract_cli.command("create")
@click.option("--reference", required=True)
@click.option("--object", "object_", required=True)
@click.option("--category", type=click.Choice(["travaux", "fournitures", "services"]))
@click.option("--notified", required=True, help="Date de notification, AAAA-MM-JJ.")
@click.option("--months", type=click.IntRange(1, 600), required=True)
@click.option("--amount", required=True, help="Montant initial HT, par exemple 1250000.00.")
@click.option("--buyer-siret", required=True)
@click.option("--supplier-siret", required=True)
@click.option("--lead-email", required=True, help="Référent acheteur, invité par e-mail.")
@click.option("--clause-file", type=click.File(encoding="utf-8"), help="Clause en Markdown.")
def create_contract_command(
    reference, object_, category, notified, months, amount, buyer_siret, supplier_siret,
    lead_email, clause_file,
):  # fmt: skip
    """Créer un marché et inviter son référent acheteur."""
    from sqlalchemy import select

    from app.contracts import services
    from app.organisations.models import Organisation

    def org(siret):
        found = db.session.scalar(select(Organisation).where(Organisation.siret == siret))
        if found is None:
            raise click.ClickException(f"Aucune organisation avec le SIRET {siret}.")
        return found

    try:
        amount_ht = Decimal(amount.replace(",", "."))
        notification = date.fromisoformat(notified)
    except (InvalidOperation, ValueError) as error:
        raise click.ClickException("Montant ou date invalide.") from error
    data = services.ContractData(
        reference=reference,
        object=object_,
        category=category or "services",
        notification_date=notification,
        duration_months=months,
        initial_amount_ht=amount_ht,
        buyer_organisation_id=org(buyer_siret).id,
        supplier_organisation_id=org(supplier_siret).id,
        progress_clause=clause_file.read() if clause_file else "",
    )
    try:
        contract = services.create_contract_with_lead(
            data, lead_email=lead_email, lead_name="", actor=None
        )
    except DomainError as error:
        _fail(error)
    _send_outbox()
    click.echo(f"Marché {contract.reference} créé (n° {contract.id}).")


def _send_outbox():
    from app.outbox.services import send_pending

    return send_pending()


@audit_cli.command("verify")
def verify_audit():
    """Recalculer chaque chaîne ; code de sortie 1 si une entrée a été modifiée ou supprimée."""
    from app.audit.services import verify_all

    reports = verify_all()
    broken = [r for r in reports if not r.ok]
    for report in reports:
        if report.ok:
            click.echo(
                f"{report.chain} : {report.entries} entrées, intègre (tête {report.head_hash[:16]}…)"
            )
        else:
            click.echo(
                f"{report.chain} : ROMPUE à l'entrée {report.broken_at} ({report.reason})", err=True
            )
    if broken:
        raise SystemExit(1)
    click.echo(f"Journal d'audit intègre : {len(reports)} chaîne(s).")


# What the app's runtime role may do. The audit trail only grows: without UPDATE, DELETE,
# TRUNCATE, TRIGGER or ownership, the role can neither rewrite it nor switch off its triggers.
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
AUDIT_PRIVILEGES = ("SELECT", "INSERT")
NEVER_PRIVILEGES = ("TRUNCATE", "TRIGGER", "REFERENCES")
MIGRATIONS_TABLE = "alembic_version"  # written by `flask db upgrade`, run as the owner


@db_roles_cli.command("grant")
@click.option(
    "--role",
    required=True,
    help="Rôle PostgreSQL avec lequel l'application se connecte (celui de DATABASE_URL).",
)
def grant_app_role(role):
    """Donner au rôle de l'application les seuls droits dont elle a besoin (PostgreSQL) :
    SELECT, INSERT, UPDATE et DELETE sur les tables, SELECT et INSERT seulement sur le journal
    d'audit, SELECT sur la table des migrations, USAGE sur les séquences ; ni TRUNCATE, ni
    TRIGGER, ni propriété des tables. Les droits donnés auparavant sont retirés. À lancer par le propriétaire des tables (celui
    des migrations), après chaque `flask db upgrade`."""
    if db.engine.dialect.name != "postgresql":
        raise click.ClickException(
            "Commande réservée à PostgreSQL. Avec SQLite, il n'y a pas de rôles : les "
            "déclencheurs créés par les migrations refusent déjà UPDATE et DELETE sur le journal "
            "d'audit."
        )
    with db.engine.begin() as connection:
        schema, tables = _grant_app_role(connection, role)
    click.echo(
        f"Rôle {role} : {len(tables)} tables du schéma {schema} en lecture et écriture, journal "
        f"d'audit en SELECT et INSERT seulement, séquences en USAGE ; ni TRUNCATE, ni TRIGGER."
    )


def _grant_app_role(connection, role: str) -> tuple[str, list[str]]:
    """Revoke everything `role` holds on the tables and sequences of the current schema, grant
    exactly the app's needs, then check the result (refusing a superuser, the tables' owner or a
    member of its role, and privileges still inherited from another role or PUBLIC). Raises
    ClickException, so the caller's transaction rolls back and nothing changes."""
    from sqlalchemy import text

    from app.audit.models import AuditEvent

    def rows(sql, **params):
        return connection.execute(text(sql), {"role": role, **params}).all()

    found = rows("SELECT rolsuper FROM pg_roles WHERE rolname = :role")
    if not found:
        raise click.ClickException(
            f"Le rôle {role} n'existe pas : créez-le d'abord (CREATE ROLE … LOGIN PASSWORD …)."
        )
    if found[0][0]:
        raise click.ClickException(
            f"{role} est superutilisateur : il passerait outre tous les droits. Créez un rôle "
            "ordinaire pour l'application."
        )
    schema = rows("SELECT current_schema()")[0][0]
    tables = rows(
        "SELECT c.relname, pg_has_role(:role, c.relowner, 'MEMBER') FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = :schema AND c.relkind IN ('r', 'p') ORDER BY c.relname",
        schema=schema,
    )
    names = [name for name, _owned in tables]
    audit_table = AuditEvent.__tablename__
    if audit_table not in names:
        raise click.ClickException(
            f"Pas de table {audit_table} dans le schéma {schema} : lancez d'abord `flask db upgrade`."
        )
    owned = [name for name, is_owner in tables if is_owner]
    if owned:
        raise click.ClickException(
            f"{role} possède les tables (ou est membre du rôle qui les possède ; par exemple "
            f"{owned[0]}) : il pourrait désactiver les déclencheurs du journal d'audit. "
            "L'application doit se connecter avec un autre rôle que celui des migrations."
        )
    quote = connection.dialect.identifier_preparer.quote_identifier
    grantee, namespace = quote(role), quote(schema)
    statements = [
        f"GRANT USAGE ON SCHEMA {namespace} TO {grantee}",
        f"REVOKE CREATE ON SCHEMA {namespace} FROM {grantee}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {namespace} FROM {grantee}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {namespace} FROM {grantee}",
    ]
    for name in names:
        privileges = {audit_table: AUDIT_PRIVILEGES, MIGRATIONS_TABLE: ("SELECT",)}.get(
            name, TABLE_PRIVILEGES
        )
        statements.append(
            f"GRANT {', '.join(privileges)} ON {namespace}.{quote(name)} TO {grantee}"
        )
    statements.append(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {namespace} TO {grantee}")
    for statement in statements:
        connection.execute(text(statement))
    _check_app_role(rows, schema, audit_table)
    return schema, names


def _check_app_role(rows, schema: str, audit_table: str) -> None:
    """What the role can really do, memberships and PUBLIC included: a REVOKE only takes back
    the grants made to the role itself."""
    forbidden = [("UPDATE", audit_table), ("DELETE", audit_table)]
    forbidden += [(privilege, None) for privilege in NEVER_PRIVILEGES]
    for privilege, table in forbidden:
        left = rows(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :schema AND c.relkind IN ('r', 'p') "
            "AND (CAST(:table AS text) IS NULL OR c.relname = :table) "
            "AND has_table_privilege(:role, c.oid, :privilege)",
            schema=schema, table=table, privilege=privilege,
        )  # fmt: skip
        if left:
            raise click.ClickException(
                f"Le rôle garde le droit {privilege} sur {left[0][0]}, hérité d'un autre rôle ou "
                "de PUBLIC : retirez-le là, puis relancez la commande."
            )


@outbox_cli.command("send")
@click.option("--limit", default=100, show_default=True)
def send_outbox(limit):
    """Envoyer les e-mails en attente (à lancer en boucle ou par cron)."""
    from app.outbox.services import send_pending

    click.echo(f"{send_pending(limit=limit)} e-mail(s) envoyé(s).")


@notifications_cli.command("reminders")
def send_reminders():
    """Relancer l'autre partie des difficultés dont la prise en compte est en retard (une fois
    par jour et par difficulté : relancer la commande le même jour n'envoie rien de plus)."""
    from app.difficulties.services import send_reminders as remind

    click.echo(f"{remind()} difficulté(s) relancée(s).")


@notifications_cli.command("digest")
def send_digest():
    """Préparer le résumé quotidien de chaque personne qui l'a choisi (puis `flask outbox send`)."""
    from app.notifications.services import send_digests

    click.echo(f"{send_digests()} résumé(s) mis en file d'envoi.")


@click.command("backup")
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Path(file_okay=False),
    help="Dossier où écrire la sauvegarde.",
)
def backup_command(target):
    """Sauvegarder la base et les pièces jointes, avec un manifeste de contrôle."""
    from app.backup import backup

    folder = backup(target)
    click.echo(f"Sauvegarde écrite dans {folder}")


@click.command("restore")
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="Dossier d'une sauvegarde faite par `flask backup`.",
)
@click.option("--yes", is_flag=True, help="Remplacer sans demander les données actuelles.")
def restore_command(source, yes):
    """Restaurer une sauvegarde, puis vérifier que les données sont les mêmes."""
    from app.backup import restore

    if not yes:
        click.confirm("Les données actuelles seront remplacées. Continuer ?", abort=True)
    problems = restore(source)
    for problem in problems:
        click.echo(f"Différence : {problem}", err=True)
    if problems:
        raise SystemExit(1)
    click.echo(
        "Restauration vérifiée : mêmes tables, même tête du journal d'audit, pièces intactes."
    )


@demo_cli.command("load")
def load_demo():
    """Charger le marché de démonstration, s'il n'est pas déjà là."""
    from flask import current_app

    from app.demo.data import load

    if not current_app.config["DEMO_DATA_ALLOWED"]:
        raise click.ClickException("Pas de données de démonstration en production.")
    created = load()
    click.echo("Données de démonstration chargées." if created else "Démonstration déjà présente.")


def register_cli(app: Flask) -> None:
    for group in (
        admin_cli,
        org_cli,
        contract_cli,
        audit_cli,
        outbox_cli,
        demo_cli,
        notifications_cli,
        db_roles_cli,
        backup_command,
        restore_command,
    ):
        app.cli.add_command(group)

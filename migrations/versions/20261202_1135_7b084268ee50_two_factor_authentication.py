"""Two-factor authentication (TOTP): each account's secret, when it was turned on and the
time-step of the last accepted code (a code serves once); the recovery codes, hashed; and a
contract's choice to require it of its leads before a visa. Columns are added in place.

Revision ID: 7b084268ee50
Revises: d7278e3816d9
Create Date: 2026-12-02 11:35:34.512080

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7b084268ee50'
down_revision = 'd7278e3816d9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('recovery_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_recovery_code_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code'))
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_user_id'), ['user_id'], unique=False)

    # Existing contracts do not require it: the buyer lead turns it on (données du marché).
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visa_requires_2fa', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('totp_enabled_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))


def downgrade():
    # Everyone's two-factor authentication is lost: they log in with their password alone.
    op.drop_column('user_account', 'totp_last_step')  # in place (SQLite >= 3.35)
    op.drop_column('user_account', 'totp_enabled_at')  # in place (SQLite >= 3.35)
    op.drop_column('user_account', 'totp_secret')  # in place (SQLite >= 3.35)

    op.drop_column('contract', 'visa_requires_2fa')  # in place (SQLite >= 3.35)

    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_user_id'))

    op.drop_table('recovery_code')

"""Memberships indexed by person then contract (was by person alone): the bell's unread count
checks each notification's contract in one probe instead of scanning all of a person's
memberships (bench/RESULTS.md: 15 ms a page for a buyer in 1,001 contracts).

Revision ID: c41d7a9e5b20
Revises: 7b084268ee50
Create Date: 2026-12-04 02:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c41d7a9e5b20'
down_revision = '7b084268ee50'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.create_index('ix_membership_user_contract', ['user_id', 'contract_id'], unique=False)
        batch_op.drop_index(batch_op.f('ix_membership_user_id'))


def downgrade():
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_user_id'), ['user_id'], unique=False)
        batch_op.drop_index('ix_membership_user_contract')

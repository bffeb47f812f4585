"""Execution data: indicator values (measurements) and their history, action follow-ups
(status, progress, actual dates) and their history, API tokens and idempotent API requests.

Revision ID: 42f0dace2f60
Revises: 55bb8852302c
Create Date: 2026-11-25 10:51:17.966794

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '42f0dace2f60'
down_revision = '55bb8852302c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('action_follow_up',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('action_uid', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('actual_start', sa.Date(), nullable=True),
    sa.Column('actual_end', sa.Date(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('proposee', 'validee', 'en_cours', 'realisee', 'abandonnee')", name=op.f('ck_action_follow_up_status')),
    sa.CheckConstraint('actual_end IS NULL OR actual_start IS NULL OR actual_end >= actual_start', name=op.f('ck_action_follow_up_actual_dates_in_order')),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_action_follow_up_progress')),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_action_follow_up_contract_id_contract'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_action_follow_up_updated_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_follow_up')),
    sa.UniqueConstraint('contract_id', 'action_uid', name='uq_action_follow_up_action')
    )
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('scope', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("scope IN ('lecture', 'ecriture')", name=op.f('ck_api_token_scope')),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_api_token_contract_id_contract'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_api_token_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index('ix_api_token_contract', ['contract_id'], unique=False)

    op.create_table('action_follow_up_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('follow_up_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=120), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_action_follow_up_event_actor_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['follow_up_id'], ['action_follow_up.id'], name=op.f('fk_action_follow_up_event_follow_up_id_action_follow_up'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_follow_up_event'))
    )
    with op.batch_alter_table('action_follow_up_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_follow_up_event_follow_up_id'), ['follow_up_id'], unique=False)

    op.create_table('idempotent_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['token_id'], ['api_token.id'], name=op.f('fk_idempotent_request_token_id_api_token'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotent_request')),
    sa.UniqueConstraint('token_id', 'key', name='uq_idempotent_request_token_key')
    )
    op.create_table('measurement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('indicator_uid', sa.String(length=36), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=4), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('entered_by_side', sa.String(length=10), nullable=False),
    sa.Column('entered_at', sa.DateTime(), nullable=False),
    sa.Column('validation', sa.String(length=12), nullable=False),
    sa.Column('validation_note', sa.Text(), nullable=False),
    sa.Column('validated_by_id', sa.Integer(), nullable=True),
    sa.Column('validated_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("entered_by_side IN ('acheteur', 'titulaire')", name=op.f('ck_measurement_entered_by_side')),
    sa.CheckConstraint("source IN ('saisie', 'import', 'api')", name=op.f('ck_measurement_source')),
    sa.CheckConstraint("validation IN ('a_valider', 'validee', 'questionnee')", name=op.f('ck_measurement_validation')),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_measurement_period_in_order')),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_measurement_contract_id_contract'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entered_by_id'], ['user_account.id'], name=op.f('fk_measurement_entered_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['evidence_id'], ['attachment.id'], name=op.f('fk_measurement_evidence_id_attachment'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['validated_by_id'], ['user_account.id'], name=op.f('fk_measurement_validated_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measurement')),
    sa.UniqueConstraint('contract_id', 'indicator_uid', 'period_start', name='uq_measurement_indicator_period')
    )
    with op.batch_alter_table('measurement', schema=None) as batch_op:
        batch_op.create_index('ix_measurement_contract_indicator', ['contract_id', 'indicator_uid'], unique=False)

    op.create_table('measurement_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('measurement_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=120), nullable=False),
    sa.Column('action', sa.String(length=12), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_measurement_event_actor_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['measurement_id'], ['measurement.id'], name=op.f('fk_measurement_event_measurement_id_measurement'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measurement_event'))
    )
    with op.batch_alter_table('measurement_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_measurement_event_measurement_id'), ['measurement_id'], unique=False)



def downgrade():
    with op.batch_alter_table('measurement_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_measurement_event_measurement_id'))

    op.drop_table('measurement_event')
    with op.batch_alter_table('measurement', schema=None) as batch_op:
        batch_op.drop_index('ix_measurement_contract_indicator')

    op.drop_table('measurement')
    op.drop_table('idempotent_request')
    with op.batch_alter_table('action_follow_up_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_follow_up_event_follow_up_id'))

    op.drop_table('action_follow_up_event')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index('ix_api_token_contract')

    op.drop_table('api_token')
    op.drop_table('action_follow_up')

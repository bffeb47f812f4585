"""Difficulties (their links to plan items by uid, files, history), discussion threads,
notifications and e-mail preferences; each contract's response delay for difficulties.

On SQLite the new contract column is added in place (no table copy: copying `contract` would
cascade-delete its members under foreign_keys=ON).

Revision ID: 55bb8852302c
Revises: a7c3e1d2f4b5
Create Date: 2026-11-25 10:31:24.736708

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '55bb8852302c'
down_revision = 'a7c3e1d2f4b5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('difficulty',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('request', sa.Text(), nullable=False),
    sa.Column('raised_by_id', sa.Integer(), nullable=True),
    sa.Column('raised_by_side', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('response_due', sa.Date(), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('for_review_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('reminded_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("category IN ('delais', 'approvisionnement', 'technique', 'financier', 'organisationnel', 'reglementaire', 'autre')", name=op.f('ck_difficulty_category')),
    sa.CheckConstraint("raised_by_side IN ('acheteur', 'titulaire')", name=op.f('ck_difficulty_raised_by_side')),
    sa.CheckConstraint("severity IN ('faible', 'moyenne', 'elevee', 'critique')", name=op.f('ck_difficulty_severity')),
    sa.CheckConstraint("status IN ('ouverte', 'prise_en_compte', 'en_cours', 'a_traiter_en_revue', 'resolue', 'close')", name=op.f('ck_difficulty_status')),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['user_account.id'], name=op.f('fk_difficulty_acknowledged_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_difficulty_contract_id_contract'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['raised_by_id'], ['user_account.id'], name=op.f('fk_difficulty_raised_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_difficulty')),
    sa.UniqueConstraint('contract_id', 'number', name='uq_difficulty_contract_number')
    )
    with op.batch_alter_table('difficulty', schema=None) as batch_op:
        batch_op.create_index('ix_difficulty_contract_status', ['contract_id', 'status'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('text', sa.String(length=400), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.Column('email', sa.String(length=10), nullable=False),
    sa.CheckConstraint("email IN ('sans', 'envoye', 'a_resumer')", name=op.f('ck_notification_email')),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_notification_contract_id_contract'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_digest', ['email', 'user_id'], unique=False)
        batch_op.create_index('ix_notification_user_unread', ['user_id', 'read_at'], unique=False)

    op.create_table('notification_preference',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.CheckConstraint("mode IN ('immediat', 'quotidien', 'aucun')", name=op.f('ck_notification_preference_mode')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_preference_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_preference')),
    sa.UniqueConstraint('user_id', 'kind', name='uq_notification_preference_user_kind')
    )
    op.create_table('thread_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('subject_type', sa.String(length=20), nullable=False),
    sa.Column('subject_key', sa.String(length=40), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_name', sa.String(length=120), nullable=False),
    sa.Column('author_side', sa.String(length=10), nullable=False),
    sa.Column('visibility', sa.String(length=8), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("author_side IN ('acheteur', 'titulaire')", name=op.f('ck_thread_message_author_side')),
    sa.CheckConstraint("visibility IN ('partage', 'interne')", name=op.f('ck_thread_message_visibility')),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_thread_message_author_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_thread_message_contract_id_contract'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_thread_message'))
    )
    with op.batch_alter_table('thread_message', schema=None) as batch_op:
        batch_op.create_index('ix_thread_message_subject', ['contract_id', 'subject_type', 'subject_key'], unique=False)

    op.create_table('difficulty_attachment',
    sa.Column('difficulty_id', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachment.id'], name=op.f('fk_difficulty_attachment_attachment_id_attachment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['difficulty_id'], ['difficulty.id'], name=op.f('fk_difficulty_attachment_difficulty_id_difficulty'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('difficulty_id', 'attachment_id', name=op.f('pk_difficulty_attachment'))
    )
    op.create_table('difficulty_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('difficulty_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=120), nullable=False),
    sa.Column('actor_side', sa.String(length=10), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_difficulty_event_actor_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['difficulty_id'], ['difficulty.id'], name=op.f('fk_difficulty_event_difficulty_id_difficulty'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_difficulty_event'))
    )
    with op.batch_alter_table('difficulty_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_difficulty_event_difficulty_id'), ['difficulty_id'], unique=False)

    op.create_table('difficulty_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('difficulty_id', sa.Integer(), nullable=False),
    sa.Column('item_kind', sa.String(length=12), nullable=False),
    sa.Column('item_uid', sa.String(length=36), nullable=False),
    sa.CheckConstraint("item_kind IN ('objectif', 'indicateur', 'action')", name=op.f('ck_difficulty_link_item_kind')),
    sa.ForeignKeyConstraint(['difficulty_id'], ['difficulty.id'], name=op.f('fk_difficulty_link_difficulty_id_difficulty'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_difficulty_link')),
    sa.UniqueConstraint('difficulty_id', 'item_uid', name='uq_difficulty_link_item')
    )
    with op.batch_alter_table('difficulty_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_difficulty_link_item_uid'), ['item_uid'], unique=False)

    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.add_column(sa.Column('difficulty_response_days', sa.Integer(), server_default='5', nullable=False))



def downgrade():
    # ALTER TABLE … DROP COLUMN in place (SQLite >= 3.35): a batch copy would cascade.
    op.drop_column('contract', 'difficulty_response_days')

    with op.batch_alter_table('difficulty_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_difficulty_link_item_uid'))

    op.drop_table('difficulty_link')
    with op.batch_alter_table('difficulty_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_difficulty_event_difficulty_id'))

    op.drop_table('difficulty_event')
    op.drop_table('difficulty_attachment')
    with op.batch_alter_table('thread_message', schema=None) as batch_op:
        batch_op.drop_index('ix_thread_message_subject')

    op.drop_table('thread_message')
    op.drop_table('notification_preference')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_unread')
        batch_op.drop_index('ix_notification_digest')

    op.drop_table('notification')
    with op.batch_alter_table('difficulty', schema=None) as batch_op:
        batch_op.drop_index('ix_difficulty_contract_status')

    op.drop_table('difficulty')

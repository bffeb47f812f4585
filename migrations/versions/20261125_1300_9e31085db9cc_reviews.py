"""Review meetings: reviews, attendees, agenda items (notes, outcomes), topics proposed
between reviews, result-obligation assessments, minutes comments; files attached to outbox
e-mails (.ics invitations, minutes PDF). The outbox column is added in place on SQLite.

Revision ID: 9e31085db9cc
Revises: 42f0dace2f60
Create Date: 2026-11-25 11:07:57.124354

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9e31085db9cc'
down_revision = '42f0dace2f60'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=False),
    sa.Column('video_link', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('agenda_built_at', sa.DateTime(), nullable=True),
    sa.Column('draft_version_id', sa.Integer(), nullable=True),
    sa.Column('minutes_side', sa.String(length=10), nullable=False),
    sa.Column('minutes_handover_reason', sa.Text(), nullable=False),
    sa.Column('minutes_summary', sa.Text(), nullable=False),
    sa.Column('minutes_status', sa.String(length=12), nullable=False),
    sa.Column('minutes_sha256', sa.String(length=64), nullable=False),
    sa.Column('minutes_pdf_id', sa.Integer(), nullable=True),
    sa.Column('minutes_approved_at', sa.DateTime(), nullable=True),
    sa.Column('minutes_approved_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('revue_performance', 'comite_pilotage', 'rendez_vous')", name=op.f('ck_review_kind')),
    sa.CheckConstraint("minutes_side IN ('acheteur', 'titulaire')", name=op.f('ck_review_minutes_side')),
    sa.CheckConstraint("minutes_status IN ('a_rediger', 'soumis', 'a_reprendre', 'approuve')", name=op.f('ck_review_minutes_status')),
    sa.CheckConstraint("status IN ('planifiee', 'en_seance', 'tenue', 'annulee')", name=op.f('ck_review_status')),
    sa.CheckConstraint('duration_minutes BETWEEN 15 AND 720', name=op.f('ck_review_duration')),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_review_contract_id_contract'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_review_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['draft_version_id'], ['plan_version.id'], name=op.f('fk_review_draft_version_id_plan_version'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['minutes_approved_by_id'], ['user_account.id'], name=op.f('fk_review_minutes_approved_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['minutes_pdf_id'], ['attachment.id'], name=op.f('fk_review_minutes_pdf_id_attachment'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review')),
    sa.UniqueConstraint('contract_id', 'number', name='uq_review_contract_number')
    )
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_contract_id'), ['contract_id'], unique=False)

    op.create_table('agenda_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('source_key', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('presenter', sa.String(length=120), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('outcome_kind', sa.String(length=12), nullable=True),
    sa.Column('outcome_text', sa.Text(), nullable=False),
    sa.Column('created_action_uid', sa.String(length=36), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("outcome_kind IS NULL OR outcome_kind IN ('information', 'decision', 'action')", name=op.f('ck_agenda_item_outcome_kind')),
    sa.CheckConstraint("source IN ('difficulte', 'indicateur', 'action', 'partage', 'sujet', 'libre')", name=op.f('ck_agenda_item_source')),
    sa.CheckConstraint('duration_minutes BETWEEN 0 AND 480', name=op.f('ck_agenda_item_duration')),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], name=op.f('fk_agenda_item_review_id_review'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agenda_item'))
    )
    with op.batch_alter_table('agenda_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agenda_item_review_id'), ['review_id'], unique=False)

    op.create_table('minutes_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_name', sa.String(length=120), nullable=False),
    sa.Column('side', sa.String(length=10), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_minutes_comment_author_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], name=op.f('fk_minutes_comment_review_id_review'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_minutes_comment'))
    )
    with op.batch_alter_table('minutes_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_minutes_comment_review_id'), ['review_id'], unique=False)

    op.create_table('result_assessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('objective_uid', sa.String(length=36), nullable=False),
    sa.Column('objective_title', sa.String(length=300), nullable=False),
    sa.Column('met', sa.Boolean(), nullable=True),
    sa.Column('supplier_justification', sa.Text(), nullable=False),
    sa.Column('buyer_decision', sa.String(length=30), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("buyer_decision IS NULL OR buyer_decision IN ('acceptee', 'nouveau_delai', 'nouvel_objectif', 'penalite', 'risque_non_renouvellement')", name=op.f('ck_result_assessment_buyer_decision')),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], name=op.f('fk_result_assessment_review_id_review'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_result_assessment')),
    sa.UniqueConstraint('review_id', 'objective_uid', name='uq_result_assessment_objective')
    )
    with op.batch_alter_table('result_assessment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_result_assessment_review_id'), ['review_id'], unique=False)

    op.create_table('review_attendee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('side', sa.String(length=10), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], name=op.f('fk_review_attendee_review_id_review'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_review_attendee_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_attendee'))
    )
    with op.batch_alter_table('review_attendee', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_attendee_review_id'), ['review_id'], unique=False)

    op.create_table('topic_proposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('proposed_by_name', sa.String(length=120), nullable=False),
    sa.Column('side', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_topic_proposal_contract_id_contract'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['user_account.id'], name=op.f('fk_topic_proposal_proposed_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], name=op.f('fk_topic_proposal_review_id_review'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_topic_proposal'))
    )
    with op.batch_alter_table('topic_proposal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_topic_proposal_contract_id'), ['contract_id'], unique=False)

    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attachments', sa.JSON(), server_default='[]', nullable=False))



def downgrade():
    op.drop_column('outbox_email', 'attachments')  # in place (SQLite >= 3.35)

    with op.batch_alter_table('topic_proposal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_topic_proposal_contract_id'))

    op.drop_table('topic_proposal')
    with op.batch_alter_table('review_attendee', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_attendee_review_id'))

    op.drop_table('review_attendee')
    with op.batch_alter_table('result_assessment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_result_assessment_review_id'))

    op.drop_table('result_assessment')
    with op.batch_alter_table('minutes_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_minutes_comment_review_id'))

    op.drop_table('minutes_comment')
    with op.batch_alter_table('agenda_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agenda_item_review_id'))

    op.drop_table('agenda_item')
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_contract_id'))

    op.drop_table('review')

"""good-practice notes, partner responses, LFPSE reference, partner sites and users

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 03:16:18.966254
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


import schemas.timestamps

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('partner_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index(batch_op.f('ix_app_user_partner_id'), ['partner_id'], unique=False)
        batch_op.create_foreign_key('fk_app_user_partner_id_partner', 'partner', ['partner_id'], ['id'])

    with op.batch_alter_table('handover', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note_type', sa.String(length=20), server_default='concern', nullable=False))
        batch_op.add_column(sa.Column('good_practice', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('raised_at', schemas.timestamps.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('partner_response_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('partner_response_at', schemas.timestamps.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('partner_acknowledged_at', schemas.timestamps.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('lfpse_reference', sa.String(length=40), server_default='', nullable=False))
        batch_op.create_foreign_key('fk_handover_partner_response_by_app_user', 'app_user', ['partner_response_by'], ['id'])

    with op.batch_alter_table('partner', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_partner_parent_id'), ['parent_id'], unique=False)
        batch_op.create_foreign_key('fk_partner_parent_id_partner', 'partner', ['parent_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('partner', schema=None) as batch_op:
        batch_op.drop_constraint('fk_partner_parent_id_partner', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_partner_parent_id'))
        batch_op.drop_column('parent_id')

    with op.batch_alter_table('handover', schema=None) as batch_op:
        batch_op.drop_constraint('fk_handover_partner_response_by_app_user', type_='foreignkey')
        batch_op.drop_column('lfpse_reference')
        batch_op.drop_column('partner_acknowledged_at')
        batch_op.drop_column('partner_response_at')
        batch_op.drop_column('partner_response_by')
        batch_op.drop_column('raised_at')
        batch_op.drop_column('good_practice')
        batch_op.drop_column('note_type')

    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_constraint('fk_app_user_partner_id_partner', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_app_user_partner_id'))
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('partner_id')


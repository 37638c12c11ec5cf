"""signup requests waiting for email confirmation

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-06 03:50:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import schemas.timestamps

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('signup_request',
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('created_at', schemas.timestamps.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', schemas.timestamps.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', schemas.timestamps.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_index(op.f('ix_signup_request_email'), 'signup_request', ['email'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_signup_request_email'), table_name='signup_request')
    op.drop_table('signup_request')

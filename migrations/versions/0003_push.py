"""web push: subscriptions and the delivery queue

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 03:00:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import schemas.timestamps

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('push_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('endpoint', sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=False),
    sa.Column('p256dh', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('auth', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('user_agent', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('created_at', schemas.timestamps.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_success_at', schemas.timestamps.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('endpoint')
    )
    with op.batch_alter_table('push_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_push_subscription_user_id'), ['user_id'], unique=False)

    op.create_table('push_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', schemas.timestamps.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claim_token', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('created_at', schemas.timestamps.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', schemas.timestamps.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['subscription_id'], ['push_subscription.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('push_delivery', schema=None) as batch_op:
        # The worker's query (status = 'pending' AND next_attempt_at <= now) and the pruning.
        batch_op.create_index('ix_push_delivery_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_push_delivery_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_push_delivery_subscription_id'), ['subscription_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('push_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_push_delivery_subscription_id'))
        batch_op.drop_index('ix_push_delivery_status_created')
        batch_op.drop_index('ix_push_delivery_due')

    op.drop_table('push_delivery')
    with op.batch_alter_table('push_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_push_subscription_user_id'))

    op.drop_table('push_subscription')

"""payments table, and mark old levies as issued

Revision ID: 8b9c0d1e2f3a
Revises: 7a8b9c0d1e2f
Create Date: 2026-04-28 09:58:40.112834

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8b9c0d1e2f3a'
down_revision = '7a8b9c0d1e2f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('payments',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('levy_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['levy_id'], ['levies.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_payments_levy_id', 'payments', ['levy_id'], unique=False)
    op.execute(
        """
        UPDATE levies
           SET status = 'issued'
         WHERE status = 'draft' AND issued_at IS NOT NULL
        """
    )


def downgrade():
    op.drop_index('ix_payments_levy_id', table_name='payments')
    op.drop_table('payments')

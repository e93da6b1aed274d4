"""add a public reference number to levies

Revision ID: 6f7a8b9c0d1e
Revises: 5e6f7a8b9c0d
Create Date: 2026-03-19 11:47:02.918375

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '6f7a8b9c0d1e'
down_revision = '5e6f7a8b9c0d'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('levies', sa.Column('reference', postgresql.UUID(as_uuid=True), server_default=sa.text('gen_random_uuid()'), nullable=False))
    op.add_column('levies', sa.Column('currency', sa.String(length=3), server_default='AUD', nullable=False))


def downgrade():
    op.drop_column('levies', 'currency')
    op.drop_column('levies', 'reference')

"""soft-delete flag on properties

Revision ID: b1c2d3e4f5a6
Revises: a0b1c2d3e4f5
Create Date: 2026-06-23 17:12:48.205569

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b1c2d3e4f5a6'
down_revision = 'a0b1c2d3e4f5'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('properties', sa.Column('archived', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    pass

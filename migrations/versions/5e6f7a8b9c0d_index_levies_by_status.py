"""index levies by status

Revision ID: 5e6f7a8b9c0d
Revises: 4d5e6f7a8b9c
Create Date: 2026-03-02 16:05:37.761920

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e6f7a8b9c0d'
down_revision = '4d5e6f7a8b9c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('levies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_levies_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('levies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_levies_status'))

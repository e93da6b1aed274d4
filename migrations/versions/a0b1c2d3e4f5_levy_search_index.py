"""search index on levies, written by hand

Revision ID: a0b1c2d3e4f5
Revises: 9c0d1e2f3a4b
Create Date: 2026-06-02 10:03:55.871204

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a0b1c2d3e4f5'
down_revision = '9c0d1e2f3a4b'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE INDEX CONCURRENTLY ix_levies_financial_year ON levies (financial_year)")


def downgrade():
    op.execute("DROP INDEX IF EXISTS ix_levies_financial_year")

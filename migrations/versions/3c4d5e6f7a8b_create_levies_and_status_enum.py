"""create levies with a status enum

Revision ID: 3c4d5e6f7a8b
Revises: 2b3c4d5e6f7a
Create Date: 2026-02-03 10:41:19.330114

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '3c4d5e6f7a8b'
down_revision = '2b3c4d5e6f7a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('levies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('property_id', sa.Integer(), nullable=False),
    sa.Column('financial_year', sa.SmallInteger(), nullable=False),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'issued', 'paid', name='levy_status'), server_default='draft', nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['property_id'], ['properties.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_levies_property_year', 'levies', ['property_id', 'financial_year'], unique=True)


def downgrade():
    op.drop_index('ix_levies_property_year', table_name='levies')
    op.drop_table('levies')
    postgresql.ENUM(name='levy_status').drop(op.get_bind())

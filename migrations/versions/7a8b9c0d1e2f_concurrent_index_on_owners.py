"""index property owners by ratepayer, concurrently

Revision ID: 7a8b9c0d1e2f
Revises: 6f7a8b9c0d1e
Create Date: 2026-04-07 13:30:12.447190

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a8b9c0d1e2f'
down_revision = '6f7a8b9c0d1e'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET lock_timeout = '5s'")
    with op.get_context().autocommit_block():
        # A failed concurrent build leaves an INVALID index: clear it so a retry can build again.
        op.drop_index(
            'ix_property_owners_ratepayer_id',
            table_name='property_owners',
            postgresql_concurrently=True,
            if_exists=True,
        )
        op.create_index(
            'ix_property_owners_ratepayer_id',
            'property_owners',
            ['ratepayer_id'],
            unique=False,
            postgresql_concurrently=True,
        )


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index(
            'ix_property_owners_ratepayer_id',
            table_name='property_owners',
            postgresql_concurrently=True,
            if_exists=True,
        )

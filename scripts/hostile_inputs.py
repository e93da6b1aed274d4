"""Writes the hostile inputs of scripts/bench-hostile.sh, one folder each, into the folder given.

Each is a migration folder `check` must handle in well under a second and 500 MB: deep
nesting, long operator chains, huge unparsable statements, a sparse 4 GB file, a wide
branching history. Sizes follow the hardening issue's measurements.
"""
import os
import random
import sys

HEADER = '''"""hostile"""
from alembic import op

revision = "{rev}"
down_revision = {down}
'''


def alembic_folder(root, name, body):
    folder = os.path.join(root, name, "versions")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "0001_hostile.py"), "w") as f:
        f.write(HEADER.format(rev="0001", down="None"))
        f.write("\n\ndef upgrade():\n" + body + "\n\ndef downgrade():\n    pass\n")


def sql_folder(root, name, text):
    folder = os.path.join(root, name, "migrations")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "V1__hostile.sql"), "w") as f:
        f.write(text)


def main(root):
    alembic_folder(root, "python-unary-minus-1mb", "    x = " + "-" * 1_100_000 + "1\n")
    alembic_folder(root, "python-nested-parens-3m", "    x = " + "(" * 3_000_000 + "1" + ")" * 3_000_000 + "\n")
    alembic_folder(root, "python-nested-lists-100k", "    x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    sql_folder(root, "sql-nested-parens-200k", "SELECT " + "(" * 200_000 + "1" + ")" * 200_000 + ";\n")
    sql_folder(root, "sql-operator-chain-100k", "SELECT 1" + " + 1" * 100_000 + ";\n")
    sql_folder(root, "sql-unparsable-200k-tokens", "CREATE WIDGET " + "frob " * 200_000 + ";\n")
    sql_folder(root, "sql-40k-statements-one-line", "SELECT 1; " * 40_000 + "\n")
    sql_folder(root, "sql-unparsable-1mb-line", "ALTER TABLE t " + "@" * 1_000_000 + ";\n")
    sparse = os.path.join(root, "sparse-4gb", "migrations")
    os.makedirs(sparse, exist_ok=True)
    with open(os.path.join(sparse, "V1__sparse.sql"), "wb") as f:
        f.truncate(4 * 1024 ** 3)
    # A wide history: every revision hangs off a random earlier one, so there are many heads.
    rng = random.Random(7)
    folder = os.path.join(root, "alembic-branching-50k", "versions")
    os.makedirs(folder, exist_ok=True)
    for i in range(50_000):
        down = "None" if i == 0 else f'"r{rng.randrange(i):05d}"'
        with open(os.path.join(folder, f"r{i:05d}.py"), "w") as f:
            f.write(HEADER.format(rev=f"r{i:05d}", down=down))
            f.write("\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n")


if __name__ == "__main__":
    main(sys.argv[1])

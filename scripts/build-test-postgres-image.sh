#!/usr/bin/env bash
# Builds a PostgreSQL image for the Docker provider's tests from the PostgreSQL installed on this
# machine, without a registry: the binaries, their shared libraries and a small entrypoint go
# into a root filesystem that `docker import` turns into an image. Users pull the official
# `postgres:<major>-alpine` instead.
#
#   scripts/build-test-postgres-image.sh [IMAGE]   (default migration-gate-test/postgres:local-v2)
set -euo pipefail

image="${1:-migration-gate-test/postgres:local-v2}"
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image exists"
  exit 0
fi

bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
if [ -z "$bindir" ] || [ ! -x "$bindir/postgres" ]; then
  echo "no PostgreSQL server under /usr/lib/postgresql/*/bin (apt-get install postgresql)" >&2
  exit 1
fi
pgroot="$(dirname "$bindir")"
major="$(basename "$pgroot")"
sharedir="/usr/share/postgresql/$major"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/var/lib/postgresql" "$root/var/run/postgresql"
chmod 1777 "$root/tmp"

copy() { # copy a path into the root, keeping where it lives
  mkdir -p "$root$(dirname "$1")"
  cp -aL "$1" "$root$1"
}

copy "$pgroot"
copy "$sharedir"
copy /usr/share/zoneinfo/UTC
copy "$(readlink -f /bin/sh)"
ln -sf "$(readlink -f /bin/sh)" "$root/bin/sh"

# Every shared library the binaries and server modules need, and the dynamic loader.
libraries() { awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $2 ~ /^\(/ {print $1}'; }
{
  find "$pgroot" -type f \( -perm -u+x -o -name '*.so*' \) -print0 | xargs -0 ldd 2>/dev/null || true
  ldd "$(readlink -f /bin/sh)"
} | libraries | sort -u | while read -r lib; do copy "$lib"; done

cat > "$root/etc/passwd" <<PASSWD
root:x:0:0:root:/root:/bin/sh
postgres:x:999:999:PostgreSQL:/var/lib/postgresql:/bin/sh
PASSWD
cat > "$root/etc/group" <<GROUP
root:x:0:
postgres:x:999:
GROUP
cat > "$root/docker-entrypoint.sh" <<ENTRY
#!/bin/sh
# Like the official image: the socket trusts local users; TCP connections from anywhere need
# POSTGRES_PASSWORD (scram-sha-256), unless POSTGRES_HOST_AUTH_METHOD says otherwise. Arguments
# after "postgres" are passed to the server.
set -e
data=/var/lib/postgresql/data
if [ ! -s "\$data/PG_VERSION" ]; then
  method="\${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
  printf '%s\n' "\${POSTGRES_PASSWORD:-}" > /tmp/pwfile
  $bindir/initdb -D "\$data" -U postgres --pwfile=/tmp/pwfile --auth-local=trust \\
    --auth-host="\$method" -E UTF8 --locale=C --no-sync >/dev/null
  : > /tmp/pwfile
  echo "listen_addresses = '*'" >> "\$data/postgresql.conf"
  echo "host all all all \$method" >> "\$data/pg_hba.conf"
fi
[ "\$1" = postgres ] && shift
exec $bindir/postgres -D "\$data" -k /var/run/postgresql "\$@"
ENTRY
chmod 755 "$root/docker-entrypoint.sh"
chown -R 999:999 "$root/var/lib/postgresql" "$root/var/run/postgresql"

tar -C "$root" -c . | docker import \
  --change 'ENTRYPOINT ["/docker-entrypoint.sh"]' \
  --change 'USER postgres' \
  --change "ENV PATH=$bindir:/bin" \
  --change 'EXPOSE 5432' \
  - "$image" >/dev/null
echo "built $image (PostgreSQL $major from this machine)"

#!/usr/bin/env bash
# Set up and start a streaming-replication standby of a running PostgreSQL primary: the read
# replica behind DATABASE_REPLICA_URL (README, "Several nodes"). The tests use this script.
#
#   scripts/pg-standby.sh PRIMARY_HOST PRIMARY_PORT REPLICATION_USER STANDBY_DIR STANDBY_PORT
#
# The primary needs wal_level=replica (the default), a free WAL sender (max_wal_senders, 10 by
# default) and a pg_hba.conf "replication" line for the user from this host. The standby is a
# copy taken with pg_basebackup (-R writes primary_conninfo and standby.signal), then started
# with hot_standby (the default): it answers reads and follows the primary's WAL stream.
# Run it as the user that owns the PostgreSQL data (postgres), not as root.
set -euo pipefail
if [ $# -ne 5 ]; then
  sed -n '2,11p' "$0" >&2; exit 2
fi
primary_host=$1 primary_port=$2 user=$3 standby_dir=$4 standby_port=$5
bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
[ -e "$standby_dir" ] && [ -n "$(ls -A "$standby_dir")" ] && { echo "$standby_dir is not empty" >&2; exit 1; }
"$bin/pg_basebackup" -h "$primary_host" -p "$primary_port" -U "$user" -D "$standby_dir" \
  --write-recovery-conf --wal-method=stream --checkpoint=fast --no-password
chmod 700 "$standby_dir"
cat >> "$standby_dir/postgresql.auto.conf" <<CONF
port = $standby_port
hot_standby = on
hot_standby_feedback = on
CONF
"$bin/pg_ctl" -D "$standby_dir" -l "$standby_dir/standby.log" -w -t 60 start >/dev/null
echo "standby of $primary_host:$primary_port running on port $standby_port ($standby_dir)"

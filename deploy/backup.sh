#!/bin/sh
# Nightly backup of the wall's database (run by twitsocket-backup.timer, or by hand).
#   PostgreSQL: pg_dump --format=custom (restore with pg_restore).
#   SQLite:     flask twitsocket backup (SQLite's online backup API: consistent while
#               the stream writes; a plain `cp` of a live SQLite file may not be).
# Usage: deploy/backup.sh DIRECTORY   (DATABASE_URL and FLASK_APP from the environment)
set -eu
directory=${1:?usage: backup.sh DIRECTORY}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$directory"
case "$DATABASE_URL" in
  postgresql*|postgres*)
    # pg_dump takes a libpq URL: drop SQLAlchemy's "+driver".
    url=$(printf '%s' "$DATABASE_URL" | sed 's/^postgresql+[a-z0-9]*:/postgresql:/')
    pg_dump --format=custom --file="$directory/twitsocket-$stamp.dump" "$url"
    echo "$directory/twitsocket-$stamp.dump"
    ;;
  sqlite*)
    flask twitsocket backup "$directory/twitsocket-$stamp.sqlite3"
    ;;
  *)
    echo "backup.sh: unsupported DATABASE_URL scheme" >&2
    exit 2
    ;;
esac

#!/bin/sh
# Prepares the production Temporal server for Hive, in two steps; both converge when run again.
#   setup.sh schema     before the server starts: Temporal's two databases on PostgreSQL and their
#                       schemas (the ones embedded in temporal-sql-tool: the module's
#                       schema/postgresql/v12/{temporal,visibility}), updated to the newest version.
#   setup.sh namespace  once the server answers: the namespace Hive uses and the search attributes
#                       Hive upserts (CellId, …), waiting until the frontend lists them.
# ONE source for docker-compose.yml (services temporal-schema and temporal-setup, admin-tools image)
# and the several-hosts tests (test/support/temporalServer.ts runs it with the binaries `hive setup
# --temporal-server` builds). The same environment as config/hive.yaml: POSTGRES_SEEDS, DB_PORT,
# POSTGRES_USER, POSTGRES_PWD, POSTGRES_SOCKET_DIR, DBNAME, VISIBILITY_DBNAME; and TEMPORAL_ADDRESS,
# TEMPORAL_NAMESPACE for the second step. temporal-sql-tool and temporal (the CLI) on PATH.
set -eu

# Hive's custom search attributes, all Keyword: src/temporal/searchAttributes.ts names the same ones,
# and the several-hosts test fails if the two lists differ.
SEARCH_ATTRIBUTES="CellId TemplateId CellStatus WorkspaceId"

schema() {
  export SQL_PLUGIN=postgres12_pgx # the driver config/hive.yaml uses
  export SQL_HOST="${POSTGRES_SEEDS:-127.0.0.1}"
  export SQL_PORT="${DB_PORT:-5432}"
  export SQL_USER="${POSTGRES_USER:-temporal}"
  export SQL_PASSWORD="${POSTGRES_PWD:-}"
  if [ -n "${POSTGRES_SOCKET_DIR:-}" ]; then export SQL_CONNECT_ATTRIBUTES="host=$POSTGRES_SOCKET_DIR"; fi
  for pair in "${DBNAME:-temporal}:temporal" "${VISIBILITY_DBNAME:-temporal_visibility}:visibility"; do
    db="${pair%%:*}"
    kind="${pair#*:}"
    # create-database has no "if not exists": a database left by an earlier run is fine, and an
    # unreachable server fails the next command with its own message.
    temporal-sql-tool --database "$db" create-database >/dev/null 2>&1 || echo "database $db exists"
    temporal-sql-tool --database "$db" setup-schema -v 0.0
    temporal-sql-tool --database "$db" update-schema --schema-name "postgresql/v12/$kind"
  done
}

namespace() {
  ns="${TEMPORAL_NAMESPACE:-default}"
  # Started beside the server (compose): wait until its frontend answers.
  tries=0
  until temporal operator cluster health >/dev/null 2>&1; do
    tries=$((tries + 1))
    [ "$tries" -lt 120 ] || { echo "no Temporal server answering at ${TEMPORAL_ADDRESS:-127.0.0.1:7233}" >&2; exit 1; }
    sleep 1
  done
  temporal operator namespace describe --namespace "$ns" >/dev/null 2>&1 ||
    temporal operator namespace create --namespace "$ns" --retention "${TEMPORAL_RETENTION:-72h}"
  # The frontend serves a new namespace once its namespace cache refreshes (up to ~10 s).
  tries=0
  until listed=$(temporal operator search-attribute list --namespace "$ns" 2>/dev/null); do
    tries=$((tries + 1))
    [ "$tries" -lt 60 ] || { echo "namespace $ns not served after 60 s" >&2; exit 1; }
    sleep 1
  done
  for name in $SEARCH_ATTRIBUTES; do
    echo "$listed" | grep -qw "$name" ||
      temporal operator search-attribute create --namespace "$ns" --name "$name" --type Keyword
  done
  # A workflow may upsert them only once the frontend knows them (same cache): wait for the list.
  tries=0
  while :; do
    listed=$(temporal operator search-attribute list --namespace "$ns")
    missing=""
    for name in $SEARCH_ATTRIBUTES; do echo "$listed" | grep -qw "$name" || missing="$missing $name"; done
    [ -z "$missing" ] && break
    tries=$((tries + 1))
    [ "$tries" -lt 60 ] || { echo "search attributes not listed after 60 s:$missing" >&2; exit 1; }
    sleep 1
  done
  echo "namespace $ns ready with search attributes $SEARCH_ATTRIBUTES"
}

case "${1:-}" in
  schema) schema ;;
  namespace) namespace ;;
  *)
    echo "usage: $0 schema|namespace" >&2
    exit 2
    ;;
esac

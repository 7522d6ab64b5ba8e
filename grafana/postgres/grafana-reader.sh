#!/bin/sh
# Runs once, when the postgres container initialises its data directory: a
# read-only role for Grafana's PostgreSQL data source. Grafana reads the tables
# the service creates, and can change nothing.
set -eu
psql -v ON_ERROR_STOP=1 -v grafana_password="${GRAFANA_DB_PASSWORD}" \
     --username "${POSTGRES_USER}" --dbname "${POSTGRES_DB}" <<'SQL'
CREATE ROLE grafana_reader LOGIN PASSWORD :'grafana_password';
GRANT CONNECT ON DATABASE sales_agent TO grafana_reader;
GRANT USAGE ON SCHEMA public TO grafana_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE sales_agent IN SCHEMA public GRANT SELECT ON TABLES TO grafana_reader;
SQL

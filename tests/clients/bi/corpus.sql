-- Replay corpus: connect-time and schema-browsing SQL that BI tools send to a PostgreSQL server.
--
-- Format (read by run_corpus.py):
--   -- @@ <tool>: <what it is>      starts a statement block; everything up to the next header is sent as ONE
--                                   simple-protocol Query (so a block may hold several ';'-separated statements,
--                                   exactly like psqlODBC / Npgsql / pgAdmin batch them).
--   -- source: ...                  where the SQL text comes from (informational)
--   -- expect: <substring>          the rendered result must contain <substring>. Rows are rendered as
--                                   cells joined by '|' (NULL -> 'NULL'), one row per line, all result sets.
--   -- rows>=N / rows=N             row count of the LAST result set
--   -- note: ...                    what was substituted / changed (informational)
-- Placeholders resolved by the runner before sending (tools send numeric OIDs they learnt earlier):
--   {{oid:REL}}     pg_class.oid of relation REL      {{nspoid:NSP}}  pg_namespace.oid of schema NSP
--   {{db}}          current database name
-- Fixture (created by the runner): orders(id int, customer text, amount numeric(10,2), at timestamp) with rows,
-- view big_orders, materialized view spend, index orders_id on orders(id).
-- Other lines starting with '--' are comments and are sent along with the SQL (the server must ignore them).

-- ===========================================================================================================
-- Metabase (pgjdbc).  Sources: src/metabase/driver/postgres.clj (metabase/metabase master),
-- datafusion-postgres tests/metabase.rs (recorded Metabase v0.55 startup), clients.md §3.1.
-- HoneySQL forms rendered by hand with Metabase's :ansi quoting.
-- ===========================================================================================================

-- @@ metabase: pgjdbc startup SET extra_float_digits
-- source: datafusion-postgres tests/metabase.rs
SET extra_float_digits = 2

-- @@ metabase: SET application_name
-- source: datafusion-postgres tests/metabase.rs
SET application_name = 'Metabase v0.55.1 [f8f63fdf-d8f8-4573-86ea-4fe4a9548041]'

-- @@ metabase: SHOW TRANSACTION ISOLATION LEVEL
-- source: datafusion-postgres tests/metabase.rs
-- note: any level is acceptable (PostgreSQL says 'read committed'; a serializable server may say 'serializable')
-- rows=1
SHOW TRANSACTION ISOLATION LEVEL

-- @@ metabase: SET SESSION CHARACTERISTICS (read uncommitted)
-- source: datafusion-postgres tests/metabase.rs
SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ UNCOMMITTED

-- @@ metabase: db-default-timezone
-- source: postgres.clj driver/db-default-timezone
-- rows=1
show timezone;

-- @@ metabase: pgjdbc getSchemas (schema sync)
-- source: datafusion-postgres tests/metabase.rs (pgjdbc PgDatabaseMetaData.getSchemas)
-- expect: public
SELECT nspname AS "TABLE_SCHEM", current_database() AS "TABLE_CATALOG" FROM pg_catalog.pg_namespace  WHERE nspname <> 'pg_toast' AND (nspname !~ '^pg_temp_'  OR nspname = (pg_catalog.current_schemas(true))[1]) AND (nspname !~ '^pg_toast_temp_'  OR nspname = replace((pg_catalog.current_schemas(true))[1], 'pg_temp_', 'pg_toast_temp_'))  ORDER BY "TABLE_SCHEM"

-- @@ metabase: current-user-table-privileges
-- source: postgres.clj sql-jdbc.sync/current-user-table-privileges
-- expect: public|orders|t|t|t|t
-- expect: big_orders
-- expect: spend
with table_privileges as (
 select
   NULL as role,
   t.schemaname as schema,
   t.objectname as table,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'update') as update,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'select') as select,
   pg_catalog.has_any_column_privilege(current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'insert') as insert,
   pg_catalog.has_table_privilege(     current_user, '"' || replace(t.schemaname, '"', '""') || '"' || '.' || '"' || replace(t.objectname, '"', '""') || '"',  'delete') as delete
 from (
   select schemaname, tablename as objectname from pg_catalog.pg_tables
   union
   select schemaname, viewname as objectname from pg_catalog.pg_views
   union
   select schemaname, matviewname as objectname from pg_catalog.pg_matviews
 ) t
 where t.schemaname !~ '^pg_'
   and t.schemaname <> 'information_schema'
   and pg_catalog.has_schema_privilege(current_user, t.schemaname, 'usage')
)
select t.*
from table_privileges t

-- @@ metabase: describe-database table list (get-tables-sql)
-- source: postgres.clj get-tables-sql (rendered as in datafusion-postgres tests/metabase.rs)
-- expect: public|orders|TABLE|NULL|
-- expect: public|big_orders|VIEW
-- expect: public|spend|MATERIALIZED VIEW
-- rows=3
SELECT "n"."nspname" AS "schema", "c"."relname" AS "name", CASE "c"."relkind" WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'v' THEN 'VIEW' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE NULL END AS "type", "d"."description" AS "description", "stat"."n_live_tup" AS "estimated_row_count" FROM "pg_catalog"."pg_class" AS "c" INNER JOIN "pg_catalog"."pg_namespace" AS "n" ON "c"."relnamespace" = "n"."oid" LEFT JOIN "pg_catalog"."pg_description" AS "d" ON ("c"."oid" = "d"."objoid") AND ("d"."objsubid" = '0') AND ("d"."classoid" = 'pg_class'::regclass) LEFT JOIN "pg_stat_user_tables" AS "stat" ON ("n"."nspname" = "stat"."schemaname") AND ("c"."relname" = "stat"."relname") WHERE ("c"."relnamespace" = "n"."oid") AND ("n"."nspname" !~ '^pg_') AND ("n"."nspname" <> 'information_schema') AND c.relkind in ('r', 'p', 'v', 'f', 'm') AND ("n"."nspname" IN ('public')) ORDER BY "type" ASC, "schema" ASC, "name" ASC

-- @@ metabase: enum-types
-- source: postgres.clj enum-types
-- rows=0
SELECT nspname, typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid IN (SELECT DISTINCT enumtypid FROM pg_enum e)

-- @@ metabase: describe-fields-sql (information_schema.columns UNION ALL matview attributes)
-- source: postgres.clj sql-jdbc.sync/describe-fields-sql, rendered for schema 'public', tables orders+spend
-- expect: id|int4|0|public|orders|f|NULL|f|f
-- expect: customer|text|1|public|orders
-- expect: amount|numeric|2|public|orders
-- expect: at|timestamp|3|public|orders
-- expect: customer|text|0|public|spend
-- expect: total|numeric|1|public|spend
-- rows=6
SELECT "c"."column_name" AS "name", CASE WHEN "c"."udt_schema" IN ('public', 'pg_catalog') THEN FORMAT('%s', "c"."udt_name") ELSE FORMAT('"%s"."%s"', "c"."udt_schema", "c"."udt_name") END AS "database-type", "c"."ordinal_position" - 1 AS "database-position", "c"."table_schema" AS "table-schema", "c"."table_name" AS "table-name", "pk"."column_name" IS NOT NULL AS "pk?", COL_DESCRIPTION(CAST(CAST(FORMAT('%I.%I', CAST("c"."table_schema" AS TEXT), CAST("c"."table_name" AS TEXT)) AS REGCLASS) AS OID), "c"."ordinal_position") AS "field-comment", (("column_default" IS NULL) OR (LOWER("column_default") = 'null')) AND ("is_nullable" = 'NO') AND NOT ((("column_default" IS NOT NULL) AND ("column_default" LIKE '%nextval(%')) OR ("is_identity" <> 'NO')) AS "database-required", (("column_default" IS NOT NULL) AND ("column_default" LIKE '%nextval(%')) OR ("is_identity" <> 'NO') AS "database-is-auto-increment" FROM "information_schema"."columns" AS "c" LEFT JOIN (SELECT "tc"."table_schema", "tc"."table_name", "kc"."column_name" FROM "information_schema"."table_constraints" AS "tc" INNER JOIN "information_schema"."key_column_usage" AS "kc" ON ("tc"."constraint_name" = "kc"."constraint_name") AND ("tc"."table_schema" = "kc"."table_schema") AND ("tc"."table_name" = "kc"."table_name") WHERE "tc"."constraint_type" = 'PRIMARY KEY') AS "pk" ON ("c"."table_schema" = "pk"."table_schema") AND ("c"."table_name" = "pk"."table_name") AND ("c"."column_name" = "pk"."column_name") WHERE c.table_schema !~ '^information_schema|catalog_history|pg_' AND ("c"."table_schema" IN ('public')) AND ("c"."table_name" IN ('orders', 'spend')) UNION ALL SELECT "pa"."attname" AS "name", CASE WHEN "ptn"."nspname" IN ('public', 'pg_catalog') THEN FORMAT('%s', "pt"."typname") ELSE FORMAT('"%s"."%s"', "ptn"."nspname", "pt"."typname") END AS "database-type", "pa"."attnum" - 1 AS "database-position", "pn"."nspname" AS "table-schema", "pc"."relname" AS "table-name", FALSE AS "pk?", NULL AS "field-comment", FALSE AS "database-required", FALSE AS "database-is-auto-increment" FROM "pg_catalog"."pg_class" AS "pc" INNER JOIN "pg_catalog"."pg_namespace" AS "pn" ON "pn"."oid" = "pc"."relnamespace" INNER JOIN "pg_catalog"."pg_attribute" AS "pa" ON "pa"."attrelid" = "pc"."oid" INNER JOIN "pg_catalog"."pg_type" AS "pt" ON "pt"."oid" = "pa"."atttypid" INNER JOIN "pg_catalog"."pg_namespace" AS "ptn" ON "ptn"."oid" = "pt"."typnamespace" WHERE ("pc"."relkind" = 'm') AND ("pa"."attnum" >= 1) AND ("pn"."nspname" IN ('public')) AND ("pc"."relname" IN ('orders', 'spend')) ORDER BY "table-schema" ASC, "table-name" ASC, "database-position" ASC

-- @@ metabase: describe-fks-sql
-- source: postgres.clj sql-jdbc.sync/describe-fks-sql, rendered for schema 'public', table orders
-- rows=0
SELECT "fk_ns"."nspname" AS "fk-table-schema", "fk_table"."relname" AS "fk-table-name", "fk_column"."attname" AS "fk-column-name", "pk_ns"."nspname" AS "pk-table-schema", "pk_table"."relname" AS "pk-table-name", "pk_column"."attname" AS "pk-column-name" FROM "pg_constraint" AS "c" INNER JOIN "pg_class" AS "fk_table" ON "c"."conrelid" = "fk_table"."oid" INNER JOIN "pg_namespace" AS "fk_ns" ON "c"."connamespace" = "fk_ns"."oid" INNER JOIN "pg_attribute" AS "fk_column" ON "c"."conrelid" = "fk_column"."attrelid" INNER JOIN "pg_class" AS "pk_table" ON "c"."confrelid" = "pk_table"."oid" INNER JOIN "pg_namespace" AS "pk_ns" ON "pk_table"."relnamespace" = "pk_ns"."oid" INNER JOIN "pg_attribute" AS "pk_column" ON "c"."confrelid" = "pk_column"."attrelid" WHERE fk_ns.nspname !~ '^information_schema|catalog_history|pg_' AND ("c"."contype" = 'f'::char) AND ("fk_column"."attnum" = ANY(c.conkey)) AND ("pk_column"."attnum" = ANY(c.confkey)) AND ("fk_table"."relname" IN ('orders')) AND ("fk_ns"."nspname" IN ('public')) ORDER BY "fk-table-schema" ASC, "fk-table-name" ASC

-- @@ metabase: describe-indexes-sql
-- source: postgres.clj sql-jdbc.sync/describe-indexes-sql, rendered for schema 'public', table orders
-- expect: public|orders|id
-- rows=1
SELECT "tmp"."table-schema", "tmp"."table-name", TRIM(BOTH '"' FROM PG_CATALOG.PG_GET_INDEXDEF("tmp"."ci_oid", "tmp"."pos", FALSE)) AS "field-name" FROM (SELECT "n"."nspname" AS "table-schema", "ct"."relname" AS "table-name", "ci"."oid" AS "ci_oid", (INFORMATION_SCHEMA._PG_EXPANDARRAY("i"."indkey")).n AS "pos" FROM "pg_catalog"."pg_class" AS "ct" INNER JOIN "pg_catalog"."pg_namespace" AS "n" ON "ct"."relnamespace" = "n"."oid" INNER JOIN "pg_catalog"."pg_index" AS "i" ON "ct"."oid" = "i"."indrelid" INNER JOIN "pg_catalog"."pg_class" AS "ci" ON "ci"."oid" = "i"."indexrelid" WHERE (PG_CATALOG.PG_GET_EXPR("i"."indpred", "i"."indrelid") IS NULL) AND n.nspname !~ '^information_schema|catalog_history|pg_' AND ("n"."nspname" IN ('public')) AND ("ct"."relname" IN ('orders'))) AS "tmp" WHERE "tmp"."pos" = 1

-- @@ metabase: query session BEGIN READ ONLY
-- source: clients.md §3.1 / driver_statements.sql jdbc_mb
BEGIN READ ONLY

-- @@ metabase: report timezone
-- source: postgres.clj set-timezone-sql "SET SESSION TIMEZONE TO %s;"
SET SESSION TIMEZONE TO 'UTC';

-- @@ metabase: table preview query (MBQL -> SQL)
-- source: Metabase generated SQL shape for a table's raw-data view (:ansi quoting, LIMIT 2000)
-- expect: 1|alice|
-- rows=4
SELECT "public"."orders"."id" AS "id", "public"."orders"."customer" AS "customer", "public"."orders"."amount" AS "amount", "public"."orders"."at" AS "at" FROM "public"."orders" ORDER BY "public"."orders"."id" ASC LIMIT 2000

-- @@ metabase: end of query session
-- source: clients.md §3.1 / driver_statements.sql jdbc_mb
ROLLBACK

-- ===========================================================================================================
-- Grafana (Go backend; lib/pq or pgx).  Sources: public/app/plugins/datasource/grafana-postgresql-datasource/
-- postgresMetaQuery.ts (current), public/app/plugins/datasource/postgres/meta_query.ts (older query builder),
-- clients.md §3.2.
-- ===========================================================================================================

-- @@ grafana: lib/pq Ping (empty statement)
-- source: clients.md §2.1/§3.2 (lib/pq Ping sends ';' and expects EmptyQueryResponse)
;

-- @@ grafana: health check / version detection
-- source: postgresMetaQuery.ts getVersion()
-- rows=1
SELECT current_setting('server_version_num')::int/100 as version

-- @@ grafana: TimescaleDB probe
-- source: postgresMetaQuery.ts getTimescaleDBVersion()
-- rows=0
SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'

-- @@ grafana: schema list
-- source: postgresMetaQuery.ts showSchemas()
-- expect: public
SELECT schema_name AS "name"
    FROM information_schema.schemata
    WHERE schema_name NOT IN ('information_schema',
                              'pg_catalog',
                              'pg_toast',
                              '_timescaledb_cache',
                              '_timescaledb_catalog',
                              '_timescaledb_internal',
                              '_timescaledb_config',
                              'timescaledb_information',
                              'timescaledb_experimental')
    ORDER BY schema_name

-- @@ grafana: table list (search_path based)
-- source: postgresMetaQuery.ts showTables() without schema
-- expect: orders
-- expect: big_orders
SELECT
    CASE WHEN 
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )
      THEN quote_ident(table_name)
      ELSE quote_ident(table_schema) || '.' || quote_ident(table_name)
    END AS "table"
    FROM information_schema.tables
    WHERE quote_ident(table_schema) NOT IN ('information_schema',
                             'pg_catalog',
                             '_timescaledb_cache',
                             '_timescaledb_catalog',
                             '_timescaledb_internal',
                             '_timescaledb_config',
                             'timescaledb_information',
                             'timescaledb_experimental')
    ORDER BY CASE WHEN 
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          ) THEN 0 ELSE 1 END, 1

-- @@ grafana: table list for one schema
-- source: postgresMetaQuery.ts showTables('public')
-- expect: orders
-- rows=2
SELECT quote_ident(table_name) AS "table"
      FROM information_schema.tables
      WHERE quote_ident(table_schema) = 'public'
      ORDER BY 1

-- @@ grafana: column list for a table
-- source: postgresMetaQuery.ts getSchema('orders')
-- expect: id|integer
-- expect: customer|text
-- expect: amount|numeric
-- expect: at|timestamp without time zone
-- rows=4
SELECT quote_ident(column_name) AS "column", data_type AS "type"
    FROM information_schema.columns
    WHERE
      CASE WHEN array_length(parse_ident('orders'),1) = 2
        THEN quote_ident(table_schema) = (parse_ident('orders'))[1]
          AND quote_ident(table_name) = (parse_ident('orders'))[2]
        ELSE quote_ident(table_name) = 'orders'
          AND 
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )
      END

-- @@ grafana: (query builder, <=v9) find metric table
-- source: postgres/meta_query.ts findMetricTable()
-- note: orders has a timestamp column but no float8 column, so PostgreSQL returns no row
-- rows=0
SELECT
	quote_ident(table_name) as table_name,
	( SELECT
	    quote_ident(column_name) as column_name
	  FROM information_schema.columns c
    WHERE
      c.table_schema = t.table_schema AND
      c.table_name = t.table_name AND
      udt_name IN ('timestamptz','timestamp')
    ORDER BY ordinal_position LIMIT 1
  ) AS time_column,
  ( SELECT
      quote_ident(column_name) AS column_name
    FROM information_schema.columns c
    WHERE
      c.table_schema = t.table_schema AND
      c.table_name = t.table_name AND
      udt_name='float8'
    ORDER BY ordinal_position LIMIT 1
  ) AS value_column
FROM information_schema.tables t
WHERE 
table_schema IN (
  SELECT
    CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
  FROM
    generate_series(
      array_lower(string_to_array(current_setting('search_path'),','),1),
      array_upper(string_to_array(current_setting('search_path'),','),1)
    ) as i,
    string_to_array(current_setting('search_path'),',') s
) AND
  EXISTS
  ( SELECT 1
    FROM information_schema.columns c
    WHERE
      c.table_schema = t.table_schema AND
      c.table_name = t.table_name AND
      udt_name IN ('timestamptz','timestamp')
  ) AND
  EXISTS
  ( SELECT 1
    FROM information_schema.columns c
    WHERE
      c.table_schema = t.table_schema AND
      c.table_name = t.table_name AND
      udt_name='float8'
  )
LIMIT 1
;

-- @@ grafana: (query builder, <=v9) table list
-- source: postgres/meta_query.ts buildTableQuery()
-- expect: orders
-- expect: big_orders
SELECT quote_ident(table_name) FROM information_schema.tables WHERE 
table_schema IN (
  SELECT
    CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
  FROM
    generate_series(
      array_lower(string_to_array(current_setting('search_path'),','),1),
      array_upper(string_to_array(current_setting('search_path'),','),1)
    ) as i,
    string_to_array(current_setting('search_path'),',') s
) ORDER BY table_name

-- @@ grafana: (query builder, <=v9) time column candidates
-- source: postgres/meta_query.ts buildColumnQuery('time') for table orders
-- expect: at
-- expect: id
-- rows=2
SELECT quote_ident(column_name) FROM information_schema.columns WHERE 
table_schema IN (
  SELECT
    CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
  FROM
    generate_series(
      array_lower(string_to_array(current_setting('search_path'),','),1),
      array_upper(string_to_array(current_setting('search_path'),','),1)
    ) as i,
    string_to_array(current_setting('search_path'),',') s
) AND table_name = 'orders' AND data_type IN ('timestamp without time zone','timestamp with time zone','bigint','integer','double precision','real') ORDER BY column_name

-- @@ grafana: (query builder, <=v9) column datatype
-- source: postgres/meta_query.ts buildDatatypeQuery('amount') for table orders
-- expect: numeric
-- rows=1
SELECT udt_name FROM information_schema.columns WHERE 
table_schema IN (
  SELECT
    CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
  FROM
    generate_series(
      array_lower(string_to_array(current_setting('search_path'),','),1),
      array_upper(string_to_array(current_setting('search_path'),','),1)
    ) as i,
    string_to_array(current_setting('search_path'),',') s
) AND table_name = 'orders' AND column_name = 'amount'

-- @@ grafana: (query builder, <=v9) aggregate functions
-- source: postgres/meta_query.ts buildAggregateQuery()
-- expect: avg
-- expect: sum
SELECT DISTINCT proname FROM pg_aggregate INNER JOIN pg_proc ON pg_aggregate.aggfnoid = pg_proc.oid INNER JOIN pg_type ON pg_type.oid=pg_proc.prorettype WHERE pronargs=1 AND typname IN ('float8') AND aggkind='n' ORDER BY 1

-- @@ grafana: panel query after macro expansion ($__timeGroup, $__timeFilter)
-- source: clients.md §3.2 (macro expansions: floor(extract(epoch from col)/300)*300, col BETWEEN RFC3339 literals)
-- rows>=1
SELECT floor(extract(epoch from at)/300)*300 AS "time", sum(amount) AS "value" FROM orders WHERE at BETWEEN '2024-01-01T00:00:00Z' AND '2024-12-31T23:59:59.999999999Z' GROUP BY 1 ORDER BY 1

-- ===========================================================================================================
-- Apache Superset (SQLAlchemy 2 + psycopg2).  Source: driver_statements.sql "superset_like" (SQLAlchemy
-- inspector replay captured against PostgreSQL 15, statement text verbatim), superset/db_engine_specs/postgres.py
-- (clients.md §3.3).  Substitutions: table t1 -> orders, OID 16385 -> {{oid:orders}}.  The BEGIN/ROLLBACK
-- wrappers SQLAlchemy puts around them are left out.
-- ===========================================================================================================

-- @@ superset: SQLAlchemy hstore probe
-- source: driver_statements.sql superset_like
-- rows=0
SELECT t.oid, typarray
FROM pg_type t JOIN pg_namespace ns
    ON typnamespace = ns.oid
WHERE typname = 'hstore';

-- @@ superset: SQLAlchemy server version
-- source: driver_statements.sql superset_like (parsed with regex 'PostgreSQL (\d+)\.?(\d+)?')
-- expect: PostgreSQL 1
select pg_catalog.version();

-- @@ superset: current_schema
-- source: driver_statements.sql superset_like
-- expect: public
select current_schema();

-- @@ superset: show transaction isolation level
-- source: driver_statements.sql superset_like
-- rows=1
show transaction isolation level;

-- @@ superset: show standard_conforming_strings
-- source: driver_statements.sql superset_like
-- expect: on
show standard_conforming_strings;

-- @@ superset: test connection (dialect ping)
-- source: driver_statements.sql superset_like
-- expect: 1
SELECT 1;

-- @@ superset: catalogs
-- source: driver_statements.sql superset_like / superset db_engine_specs/postgres.py get_catalog_names
-- expect: {{db}}
SELECT datname FROM pg_database WHERE datistemplate = false;

-- @@ superset: SQL Lab schema prequery
-- source: driver_statements.sql superset_like
set search_path = "public";

-- @@ superset: SQL Lab cancel-query id
-- source: driver_statements.sql superset_like
-- rows=1
SELECT pg_backend_pid();

-- @@ superset: SQL Lab cancel query
-- source: superset/db_engine_specs/postgres.py cancel_query ("... WHERE pid='{cancel_query_id}'"); pid 0 matches nothing
-- rows=0
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid='0'

-- @@ superset: inspector get_schema_names
-- source: driver_statements.sql superset_like
-- expect: public
SELECT pg_catalog.pg_namespace.nspname 
FROM pg_catalog.pg_namespace 
WHERE (pg_catalog.pg_namespace.nspname NOT LIKE 'pg/_' || '%' ESCAPE '/') ORDER BY pg_catalog.pg_namespace.nspname;

-- @@ superset: inspector get_table_names
-- source: driver_statements.sql superset_like
-- expect: orders
-- rows=1
SELECT pg_catalog.pg_class.relname 
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace 
WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p']) AND pg_catalog.pg_class.relpersistence != 't' AND pg_catalog.pg_namespace.nspname = 'public';

-- @@ superset: inspector get_foreign_table_names
-- source: driver_statements.sql superset_like
-- rows=0
SELECT pg_catalog.pg_class.relname 
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace 
WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['f']) AND pg_catalog.pg_namespace.nspname = 'public';

-- @@ superset: inspector get_view_names
-- source: driver_statements.sql superset_like
-- expect: big_orders
-- rows=1
SELECT pg_catalog.pg_class.relname 
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace 
WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['v']) AND pg_catalog.pg_class.relpersistence != 't' AND pg_catalog.pg_namespace.nspname = 'public';

-- @@ superset: inspector get_materialized_view_names
-- source: driver_statements.sql superset_like
-- expect: spend
-- rows=1
SELECT pg_catalog.pg_class.relname 
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace 
WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['m']) AND pg_catalog.pg_class.relpersistence != 't' AND pg_catalog.pg_namespace.nspname = 'public';

-- @@ superset: inspector get_columns
-- source: driver_statements.sql superset_like
-- expect: id|integer|NULL|f|orders
-- expect: customer|text|NULL|f|orders
-- expect: amount|numeric(10,2)|NULL|f|orders
-- expect: at|timestamp without time zone|NULL|f|orders
-- rows=4
SELECT pg_catalog.pg_attribute.attname AS name, pg_catalog.format_type(pg_catalog.pg_attribute.atttypid, pg_catalog.pg_attribute.atttypmod) AS format_type, CASE WHEN pg_catalog.pg_attribute.atthasdef THEN (SELECT pg_catalog.pg_get_expr(pg_catalog.pg_attrdef.adbin, pg_catalog.pg_attrdef.adrelid) AS pg_get_expr_1 
FROM pg_catalog.pg_attrdef 
WHERE pg_catalog.pg_attribute.atthasdef AND pg_catalog.pg_attrdef.adrelid = pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_attrdef.adnum = pg_catalog.pg_attribute.attnum) ELSE NULL END AS "default", pg_catalog.pg_attribute.attnotnull AS not_null, pg_catalog.pg_class.relname AS table_name, pg_catalog.pg_description.description AS comment, pg_catalog.pg_attribute.attgenerated AS generated, CASE WHEN (pg_catalog.pg_attribute.attidentity != '') THEN (SELECT json_build_object('always', pg_catalog.pg_attribute.attidentity = 'a', 'start', pg_catalog.pg_sequence.seqstart, 'increment', pg_catalog.pg_sequence.seqincrement, 'minvalue', pg_catalog.pg_sequence.seqmin, 'maxvalue', pg_catalog.pg_sequence.seqmax, 'cache', pg_catalog.pg_sequence.seqcache, 'cycle', pg_catalog.pg_sequence.seqcycle) AS json_build_object_1 
FROM pg_catalog.pg_sequence 
WHERE pg_catalog.pg_attribute.attidentity != '' AND pg_catalog.pg_sequence.seqrelid = CAST(CAST(pg_catalog.pg_get_serial_sequence(CAST(CAST(pg_catalog.pg_attribute.attrelid AS REGCLASS) AS TEXT), pg_catalog.pg_attribute.attname) AS REGCLASS) AS OID)) ELSE NULL END AS identity_options, CASE WHEN (pg_catalog.pg_attribute.attcollation != 0 AND (SELECT pg_catalog.pg_type.typcollation 
FROM pg_catalog.pg_type 
WHERE pg_catalog.pg_type.oid = pg_catalog.pg_attribute.atttypid) != pg_catalog.pg_attribute.attcollation) THEN (SELECT json_build_object('name', pg_catalog.pg_collation.collname, 'schema', CASE WHEN pg_catalog.pg_collation_is_visible(pg_catalog.pg_collation.oid) THEN NULL ELSE pg_catalog.pg_namespace.nspname END) AS json_build_object_9 
FROM pg_catalog.pg_collation JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_collation.collnamespace 
WHERE pg_catalog.pg_collation.oid = pg_catalog.pg_attribute.attcollation) ELSE NULL END AS collation 
FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_attribute ON pg_catalog.pg_class.oid = pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_attribute.attnum > 0 AND NOT pg_catalog.pg_attribute.attisdropped LEFT OUTER JOIN pg_catalog.pg_description ON pg_catalog.pg_description.objoid = pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_description.objsubid = pg_catalog.pg_attribute.attnum JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace 
WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) AND pg_catalog.pg_namespace.nspname = 'public' AND pg_catalog.pg_class.relname IN ('orders') ORDER BY pg_catalog.pg_class.relname, pg_catalog.pg_attribute.attnum;

-- @@ superset: inspector table oids (reflection cache)
-- source: driver_statements.sql superset_like
-- expect: {{oid:orders}}|orders
-- rows=1
SELECT pg_catalog.pg_class.oid, pg_catalog.pg_class.relname 
FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace 
WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) AND pg_catalog.pg_namespace.nspname = 'public' AND pg_catalog.pg_class.relname IN ('orders');

-- @@ superset: inspector get_pk_constraint
-- source: driver_statements.sql superset_like
-- rows=0
SELECT attr.conrelid, array_agg(CAST(attr.attname AS TEXT) ORDER BY attr.ord) AS cols, attr.conname, min(attr.description) AS description, min(attr.indnkeyatts) AS indnkeyatts, bool_and(attr.indnullsnotdistinct) AS indnullsnotdistinct 
FROM (SELECT con.conrelid AS conrelid, con.conname AS conname, con.description AS description, con.ord AS ord, con.indnkeyatts AS indnkeyatts, con.indnullsnotdistinct AS indnullsnotdistinct, pg_catalog.pg_attribute.attname AS attname 
FROM pg_catalog.pg_attribute JOIN (SELECT pg_catalog.pg_constraint.conrelid AS conrelid, pg_catalog.pg_constraint.conname AS conname, unnest(pg_catalog.pg_index.indkey) AS attnum, generate_subscripts(pg_catalog.pg_index.indkey, 1) AS ord, pg_catalog.pg_index.indnkeyatts AS indnkeyatts, pg_catalog.pg_index.indnullsnotdistinct AS indnullsnotdistinct, pg_catalog.pg_description.description AS description 
FROM pg_catalog.pg_constraint JOIN pg_catalog.pg_index ON pg_catalog.pg_constraint.conindid = pg_catalog.pg_index.indexrelid LEFT OUTER JOIN pg_catalog.pg_description ON pg_catalog.pg_description.objoid = pg_catalog.pg_constraint.oid AND pg_catalog.pg_description.classoid = CAST('pg_catalog.pg_constraint' AS REGCLASS) 
WHERE pg_catalog.pg_constraint.contype = 'p' AND pg_catalog.pg_constraint.conrelid IN ({{oid:orders}})) AS con ON pg_catalog.pg_attribute.attnum = con.attnum AND pg_catalog.pg_attribute.attrelid = con.conrelid 
WHERE con.conrelid IN ({{oid:orders}})) AS attr GROUP BY attr.conrelid, attr.conname ORDER BY attr.conrelid, attr.conname;

-- @@ superset: inspector get_foreign_keys
-- source: driver_statements.sql superset_like
-- expect: orders|NULL|NULL|NULL|NULL
-- rows=1
SELECT pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname, CASE WHEN (pg_catalog.pg_constraint.oid IS NOT NULL) THEN pg_catalog.pg_get_constraintdef(pg_catalog.pg_constraint.oid, true) END AS anon_1, nsp_ref.nspname, pg_catalog.pg_description.description 
FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_constraint ON pg_catalog.pg_class.oid = pg_catalog.pg_constraint.conrelid AND pg_catalog.pg_constraint.contype = 'f' LEFT OUTER JOIN pg_catalog.pg_class AS cls_ref ON cls_ref.oid = pg_catalog.pg_constraint.confrelid LEFT OUTER JOIN pg_catalog.pg_namespace AS nsp_ref ON cls_ref.relnamespace = nsp_ref.oid LEFT OUTER JOIN pg_catalog.pg_description ON pg_catalog.pg_description.objoid = pg_catalog.pg_constraint.oid AND pg_catalog.pg_description.classoid = CAST('pg_catalog.pg_constraint' AS REGCLASS) JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace 
WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) AND pg_catalog.pg_namespace.nspname = 'public' AND pg_catalog.pg_class.relname IN ('orders') ORDER BY pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname;

-- @@ superset: inspector btree access method
-- source: driver_statements.sql superset_like
-- expect: btree
-- rows=1
SELECT pg_catalog.pg_am.oid, pg_catalog.pg_am.amname 
FROM pg_catalog.pg_am 
WHERE pg_catalog.pg_am.amname = 'btree';

-- @@ superset: inspector non-default opclasses
-- source: driver_statements.sql superset_like
SELECT pg_catalog.pg_opclass.oid, pg_catalog.pg_opclass.opcname 
FROM pg_catalog.pg_opclass 
WHERE NOT pg_catalog.pg_opclass.opcdefault;

-- @@ superset: inspector get_indexes
-- source: driver_statements.sql superset_like
-- expect: {{oid:orders}}|orders_id|f|t|f|0|NULL|
-- expect: |NULL|1|f|{id}|{f}|
-- rows=1
SELECT pg_catalog.pg_index.indrelid, pg_catalog.pg_class.relname, pg_catalog.pg_index.indisunique, pg_catalog.pg_index.indisvalid, pg_catalog.pg_constraint.conrelid IS NOT NULL AS has_constraint, pg_catalog.pg_index.indoption, pg_catalog.pg_class.reloptions, pg_catalog.pg_class.relam, CASE WHEN (pg_catalog.pg_index.indpred IS NOT NULL) THEN pg_catalog.pg_get_expr(pg_catalog.pg_index.indpred, pg_catalog.pg_index.indrelid) END AS filter_definition, pg_catalog.pg_index.indnkeyatts, pg_catalog.pg_index.indnullsnotdistinct, idx_cols.elements, idx_cols.elements_is_expr, idx_cols.elements_opclass 
FROM pg_catalog.pg_index JOIN pg_catalog.pg_class ON pg_catalog.pg_index.indexrelid = pg_catalog.pg_class.oid LEFT OUTER JOIN (SELECT idx_attr.indexrelid AS indexrelid, min(idx_attr.indrelid) AS min_1, array_agg(idx_attr.element ORDER BY idx_attr.ord) AS elements, array_agg(idx_attr.is_expr ORDER BY idx_attr.ord) AS elements_is_expr, array_agg(idx_attr.att_opclass ORDER BY idx_attr.ord) AS elements_opclass 
FROM (SELECT idx.indexrelid AS indexrelid, idx.indrelid AS indrelid, idx.ord AS ord, CASE WHEN (idx.attnum = 0) THEN pg_catalog.pg_get_indexdef(idx.indexrelid, idx.ord + 1, true) ELSE CAST(pg_catalog.pg_attribute.attname AS TEXT) END AS element, idx.attnum = 0 AS is_expr, CAST(idx.att_opclass AS BIGINT) AS att_opclass 
FROM (SELECT pg_catalog.pg_index.indexrelid AS indexrelid, pg_catalog.pg_index.indrelid AS indrelid, unnest(pg_catalog.pg_index.indkey) AS attnum, unnest(pg_catalog.pg_index.indclass) AS att_opclass, generate_subscripts(pg_catalog.pg_index.indkey, 1) AS ord 
FROM pg_catalog.pg_index 
WHERE NOT pg_catalog.pg_index.indisprimary AND pg_catalog.pg_index.indrelid IN ({{oid:orders}})) AS idx LEFT OUTER JOIN pg_catalog.pg_attribute ON pg_catalog.pg_attribute.attnum = idx.attnum AND pg_catalog.pg_attribute.attrelid = idx.indrelid 
WHERE idx.indrelid IN ({{oid:orders}})) AS idx_attr GROUP BY idx_attr.indexrelid) AS idx_cols ON pg_catalog.pg_index.indexrelid = idx_cols.indexrelid LEFT OUTER JOIN pg_catalog.pg_constraint ON pg_catalog.pg_index.indrelid = pg_catalog.pg_constraint.conrelid AND pg_catalog.pg_index.indexrelid = pg_catalog.pg_constraint.conindid AND pg_catalog.pg_constraint.contype = ANY (ARRAY['p', 'u', 'x']) 
WHERE pg_catalog.pg_index.indrelid IN ({{oid:orders}}) AND NOT pg_catalog.pg_index.indisprimary ORDER BY pg_catalog.pg_index.indrelid, pg_catalog.pg_class.relname;

-- @@ superset: inspector get_unique_constraints
-- source: driver_statements.sql superset_like
-- rows=0
SELECT attr.conrelid, array_agg(CAST(attr.attname AS TEXT) ORDER BY attr.ord) AS cols, attr.conname, min(attr.description) AS description, min(attr.indnkeyatts) AS indnkeyatts, bool_and(attr.indnullsnotdistinct) AS indnullsnotdistinct 
FROM (SELECT con.conrelid AS conrelid, con.conname AS conname, con.description AS description, con.ord AS ord, con.indnkeyatts AS indnkeyatts, con.indnullsnotdistinct AS indnullsnotdistinct, pg_catalog.pg_attribute.attname AS attname 
FROM pg_catalog.pg_attribute JOIN (SELECT pg_catalog.pg_constraint.conrelid AS conrelid, pg_catalog.pg_constraint.conname AS conname, unnest(pg_catalog.pg_index.indkey) AS attnum, generate_subscripts(pg_catalog.pg_index.indkey, 1) AS ord, pg_catalog.pg_index.indnkeyatts AS indnkeyatts, pg_catalog.pg_index.indnullsnotdistinct AS indnullsnotdistinct, pg_catalog.pg_description.description AS description 
FROM pg_catalog.pg_constraint JOIN pg_catalog.pg_index ON pg_catalog.pg_constraint.conindid = pg_catalog.pg_index.indexrelid LEFT OUTER JOIN pg_catalog.pg_description ON pg_catalog.pg_description.objoid = pg_catalog.pg_constraint.oid AND pg_catalog.pg_description.classoid = CAST('pg_catalog.pg_constraint' AS REGCLASS) 
WHERE pg_catalog.pg_constraint.contype = 'u' AND pg_catalog.pg_constraint.conrelid IN ({{oid:orders}})) AS con ON pg_catalog.pg_attribute.attnum = con.attnum AND pg_catalog.pg_attribute.attrelid = con.conrelid 
WHERE con.conrelid IN ({{oid:orders}})) AS attr GROUP BY attr.conrelid, attr.conname ORDER BY attr.conrelid, attr.conname;

-- @@ superset: inspector get_table_comment
-- source: driver_statements.sql superset_like
-- expect: orders|NULL
-- rows=1
SELECT pg_catalog.pg_class.relname, pg_catalog.pg_description.description 
FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_description ON pg_catalog.pg_class.oid = pg_catalog.pg_description.objoid AND pg_catalog.pg_description.objsubid = 0 AND pg_catalog.pg_description.classoid = CAST('pg_catalog.pg_class' AS REGCLASS) JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace 
WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) AND pg_catalog.pg_namespace.nspname = 'public' AND pg_catalog.pg_class.relname IN ('orders');

-- @@ superset: inspector get_check_constraints
-- source: driver_statements.sql superset_like
-- expect: orders|NULL|NULL|NULL
-- rows=1
SELECT pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname, CASE WHEN (pg_catalog.pg_constraint.oid IS NOT NULL) THEN pg_catalog.pg_get_constraintdef(pg_catalog.pg_constraint.oid, true) END AS anon_1, pg_catalog.pg_description.description 
FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_constraint ON pg_catalog.pg_class.oid = pg_catalog.pg_constraint.conrelid AND pg_catalog.pg_constraint.contype = 'c' LEFT OUTER JOIN pg_catalog.pg_description ON pg_catalog.pg_description.objoid = pg_catalog.pg_constraint.oid AND pg_catalog.pg_description.classoid = CAST('pg_catalog.pg_constraint' AS REGCLASS) JOIN pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace 
WHERE pg_catalog.pg_class.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm']) AND pg_catalog.pg_namespace.nspname = 'public' AND pg_catalog.pg_class.relname IN ('orders') ORDER BY pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname;

-- @@ superset: data preview
-- source: driver_statements.sql superset_like
-- rows=4
SELECT * FROM public.orders LIMIT 100;

-- @@ superset: cost estimate
-- ripple-gap: EXPLAIN shows Ripple's dataflow plan, without PostgreSQL's cost estimates
-- source: superset/db_engine_specs/postgres.py (EXPLAIN <statement>, parses "cost=")
-- expect: cost=
EXPLAIN SELECT * FROM public.orders LIMIT 100

-- ===========================================================================================================
-- DBeaver (pgjdbc + PostgreSQL plugin).  Sources: datafusion-postgres tests/dbeaver.rs (recorded DBeaver 25.1
-- startup), dbeaver/dbeaver plugins/org.jkiss.dbeaver.ext.postgresql .../model/PostgreDatabase.java
-- (cacheDataTypes, RoleCache, AccessMethodCache) and PostgreSchema.java (TableCache, ConstraintCache,
-- IndexCache), pgjdbc PgDatabaseMetaData.getSQLKeywords.  Bind parameters (schema/table OIDs) are inlined.
-- ===========================================================================================================

-- @@ dbeaver: pgjdbc SET extra_float_digits
-- source: dbeaver.rs
SET extra_float_digits = 3

-- @@ dbeaver: pgjdbc SET application_name
-- source: dbeaver.rs
SET application_name = 'PostgreSQL JDBC Driver'

-- @@ dbeaver: SET application_name
-- source: dbeaver.rs
SET application_name = 'DBeaver 25.1.5 - Main <postgres>'

-- @@ dbeaver: current schema and user
-- source: dbeaver.rs
-- expect: public|
-- rows=1
SELECT current_schema(),session_user

-- @@ dbeaver: schema list with comments
-- source: dbeaver.rs
-- expect: public
SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=n.oid AND d.objsubid=0 AND d.classoid='pg_namespace'::regclass ORDER BY nspname

-- @@ dbeaver: pgjdbc type lookup by OID (1034 = _aclitem)
-- source: dbeaver.rs (pgjdbc TypeInfoCache)
-- expect: t|pg_catalog|_aclitem
SELECT n.nspname = ANY(current_schemas(true)), n.nspname, t.typname FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON t.typnamespace = n.oid WHERE t.oid = 1034

-- @@ dbeaver: pgjdbc is-array lookup by OID
-- source: dbeaver.rs (pgjdbc TypeInfoCache)
-- expect: t|b|_aclitem|1034
SELECT typinput='pg_catalog.array_in'::regproc as is_array, typtype, typname, pg_type.oid   FROM pg_catalog.pg_type   LEFT JOIN (select ns.oid as nspoid, ns.nspname, r.r           from pg_namespace as ns           join ( select s.r, (current_schemas(false))[s.r] as nspname                    from generate_series(1, array_upper(current_schemas(false), 1)) as s(r) ) as r          using ( nspname )        ) as sp     ON sp.nspoid = typnamespace  WHERE pg_type.oid = 1034  ORDER BY sp.r, pg_type.oid DESC

-- @@ dbeaver: SHOW search_path
-- source: dbeaver.rs
-- expect: public
SHOW search_path

-- @@ dbeaver: database info
-- source: dbeaver.rs (datname bound to the connection's database)
-- expect: {{db}}
-- rows=1
SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datname='{{db}}'

-- @@ dbeaver: pg_settings probe
-- source: dbeaver.rs (the recorded text has a typo "pg_settinngs"; DBeaver sends pg_settings)
-- expect: standard_conforming_strings|on
SELECT * FROM pg_catalog.pg_settings where name='standard_conforming_strings'

-- @@ dbeaver: pgjdbc getSQLKeywords
-- source: pgjdbc PgDatabaseMetaData.getSQLKeywords (verbatim SQL:2003 exclusion list)
-- rows=1
select string_agg(word, ',') from pg_catalog.pg_get_keywords() where word <> ALL ('{a,abs,absolute,action,ada,add,admin,after,all,allocate,alter,always,and,any,are,array,as,asc,asensitive,assertion,assignment,asymmetric,at,atomic,attribute,attributes,authorization,avg,before,begin,bernoulli,between,bigint,binary,blob,boolean,both,breadth,by,c,call,called,cardinality,cascade,cascaded,case,cast,catalog,catalog_name,ceil,ceiling,chain,char,char_length,character,character_length,character_set_catalog,character_set_name,character_set_schema,characteristics,characters,check,checked,class_origin,clob,close,coalesce,cobol,code_units,collate,collation,collation_catalog,collation_name,collation_schema,collect,column,column_name,command_function,command_function_code,commit,committed,condition,condition_number,connect,connection_name,constraint,constraint_catalog,constraint_name,constraint_schema,constraints,constructors,contains,continue,convert,corr,corresponding,count,covar_pop,covar_samp,create,cross,cube,cume_dist,current,current_collation,current_date,current_default_transform_group,current_path,current_role,current_time,current_timestamp,current_transform_group_for_type,current_user,cursor,cursor_name,cycle,data,date,datetime_interval_code,datetime_interval_precision,day,deallocate,dec,decimal,declare,default,defaults,deferrable,deferred,defined,definer,degree,delete,dense_rank,depth,deref,derived,desc,describe,descriptor,deterministic,diagnostics,disconnect,dispatch,distinct,domain,double,drop,dynamic,dynamic_function,dynamic_function_code,each,element,else,end,end-exec,equals,escape,every,except,exception,exclude,excluding,exec,execute,exists,exp,external,extract,false,fetch,filter,final,first,float,floor,following,for,foreign,fortran,found,free,from,full,function,fusion,g,general,get,global,go,goto,grant,granted,group,grouping,having,hierarchy,hold,hour,identity,immediate,implementation,in,including,increment,indicator,initially,inner,inout,input,insensitive,insert,instance,instantiable,int,integer,intersect,intersection,interval,into,invoker,is,isolation,join,k,key,key_member,key_type,language,large,last,lateral,leading,left,length,level,like,ln,local,localtime,localtimestamp,locator,lower,m,map,match,matched,max,maxvalue,member,merge,message_length,message_octet_length,message_text,method,min,minute,minvalue,mod,modifies,module,month,more,multiset,mumps,name,names,national,natural,nchar,nclob,nesting,new,next,no,none,normalize,normalized,not,"null",nullable,nullif,nulls,number,numeric,object,octet_length,octets,of,old,on,only,open,option,options,or,order,ordering,ordinality,others,out,outer,output,over,overlaps,overlay,overriding,pad,parameter,parameter_mode,parameter_name,parameter_ordinal_position,parameter_specific_catalog,parameter_specific_name,parameter_specific_schema,partial,partition,pascal,path,percent_rank,percentile_cont,percentile_disc,placing,pli,position,power,preceding,precision,prepare,preserve,primary,prior,privileges,procedure,public,range,rank,read,reads,real,recursive,ref,references,referencing,regr_avgx,regr_avgy,regr_count,regr_intercept,regr_r2,regr_slope,regr_sxx,regr_sxy,regr_syy,relative,release,repeatable,restart,result,return,returned_cardinality,returned_length,returned_octet_length,returned_sqlstate,returns,revoke,right,role,rollback,rollup,routine,routine_catalog,routine_name,routine_schema,row,row_count,row_number,rows,savepoint,scale,schema,schema_name,scope_catalog,scope_name,scope_schema,scroll,search,second,section,security,select,self,sensitive,sequence,serializable,server_name,session,session_user,set,sets,similar,simple,size,smallint,some,source,space,specific,specific_name,specifictype,sql,sqlexception,sqlstate,sqlwarning,sqrt,start,state,statement,static,stddev_pop,stddev_samp,structure,style,subclass_origin,submultiset,substring,sum,symmetric,system,system_user,table,table_name,tablesample,temporary,then,ties,time,timestamp,timezone_hour,timezone_minute,to,top_level_count,trailing,transaction,transaction_active,transactions_committed,transactions_rolled_back,transform,transforms,translate,translation,treat,trigger,trigger_catalog,trigger_name,trigger_schema,trim,true,type,uescape,unbounded,uncommitted,under,union,unique,unknown,unnamed,unnest,update,upper,usage,user,user_defined_type_catalog,user_defined_type_code,user_defined_type_name,user_defined_type_schema,using,value,values,var_pop,var_samp,varchar,varying,view,when,whenever,where,width_bucket,window,with,within,without,work,write,year,zone}'::text[])

-- @@ dbeaver: SELECT version()
-- source: dbeaver.rs
-- expect: PostgreSQL
SELECT version()

-- @@ dbeaver: pg_enum probe
-- source: dbeaver.rs
-- rows=0
SELECT * FROM pg_catalog.pg_enum WHERE 1<>1 LIMIT 1

-- @@ dbeaver: pg_class.reltype probe
-- source: dbeaver.rs
-- rows=0
SELECT reltype FROM pg_catalog.pg_class WHERE 1<>1 LIMIT 1

-- @@ dbeaver: data type cache
-- source: PostgreDatabase.java cacheDataTypes (dbeaver.rs)
-- expect: |int4|
-- expect: |numeric|
-- rows>=20
SELECT t.oid,t.*,c.relkind,format_type(nullif(t.typbasetype, 0), t.typtypmod) as base_type_name, d.description
FROM pg_catalog.pg_type t
LEFT OUTER JOIN pg_catalog.pg_type et ON et.oid=t.typelem 
LEFT OUTER JOIN pg_catalog.pg_class c ON c.oid=t.typrelid
LEFT OUTER JOIN pg_catalog.pg_description d ON t.oid=d.objoid
WHERE t.typname IS NOT NULL
AND (c.relkind IS NULL OR c.relkind = 'c') AND (et.typcategory IS NULL OR et.typcategory <> 'C')

-- @@ dbeaver: role cache
-- source: PostgreDatabase.java RoleCache
-- rows>=1
SELECT a.oid,a.* FROM pg_catalog.pg_roles a 
ORDER BY a.rolname

-- @@ dbeaver: access method cache
-- source: PostgreDatabase.java AccessMethodCache
-- expect: btree
SELECT am.oid,am.* FROM pg_catalog.pg_am am 
ORDER BY am.oid

-- @@ dbeaver: table cache for schema public
-- source: PostgreSchema.java TableCache.prepareLookupStatement (relnamespace bound to the schema OID)
-- expect: orders
-- expect: big_orders
-- expect: spend
-- rows=3
SELECT c.oid,c.*,d.description,pg_catalog.pg_get_expr(c.relpartbound, c.oid) as partition_expr,  pg_catalog.pg_get_partkeydef(c.oid) as partition_key 
FROM pg_catalog.pg_class c
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_class'::regclass
WHERE c.relnamespace={{nspoid:public}} AND c.relkind not in ('i','I','c')

-- @@ dbeaver: column cache for table orders
-- source: PostgreSchema.java TableCache.prepareChildrenStatement (c.oid bound to the table OID)
-- expect: orders|{{oid:orders}}|id|23|
-- expect: orders|{{oid:orders}}|amount|1700|
-- rows>=4
SELECT c.relname,a.*,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) as def_value,dsc.description,dep.objid
FROM pg_catalog.pg_attribute a
INNER JOIN pg_catalog.pg_class c ON (a.attrelid=c.oid)
LEFT OUTER JOIN pg_catalog.pg_attrdef ad ON (a.attrelid=ad.adrelid AND a.attnum = ad.adnum)
LEFT OUTER JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)
LEFT OUTER JOIN pg_depend dep on dep.refobjid = a.attrelid AND dep.deptype = 'i' and dep.refobjsubid = a.attnum and dep.classid = dep.refclassid
WHERE NOT a.attisdropped AND c.relkind not in ('i','I','c') AND c.oid={{oid:orders}}
ORDER BY a.attnum

-- @@ dbeaver: constraint cache for table orders
-- source: PostgreSchema.java ConstraintCache.prepareObjectsStatement (c.conrelid bound to the table OID)
-- rows=0
SELECT c.oid,c.*,t.relname as tabrelname,rt.relnamespace as refnamespace,d.description, case when c.contype='c' then "substring"(pg_get_constraintdef(c.oid), 7) else null end consrc_copy
FROM pg_catalog.pg_constraint c
INNER JOIN pg_catalog.pg_class t ON t.oid=c.conrelid
LEFT OUTER JOIN pg_catalog.pg_class rt ON rt.oid=c.confrelid
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=c.oid AND d.objsubid=0 AND d.classoid='pg_constraint'::regclass
WHERE c.conrelid={{oid:orders}}
ORDER BY c.oid

-- @@ dbeaver: index cache for table orders
-- source: PostgreSchema.java IndexCache.prepareObjectsStatement (i.indrelid bound to the table OID)
-- expect: orders_id
-- rows=1
SELECT i.*,i.indkey as keys,c.relname,c.relnamespace,c.relam,c.reltablespace,tc.relname as tabrelname,dsc.description,pg_catalog.pg_get_expr(i.indpred, i.indrelid) as pred_expr,pg_catalog.pg_get_expr(i.indexprs, i.indrelid, true) as expr,pg_catalog.pg_relation_size(i.indexrelid) as index_rel_size,pg_catalog.pg_stat_get_numscans(i.indexrelid) as index_num_scans
FROM pg_catalog.pg_index i
INNER JOIN pg_catalog.pg_class c ON c.oid=i.indexrelid
INNER JOIN pg_catalog.pg_class tc ON tc.oid=i.indrelid
LEFT OUTER JOIN pg_catalog.pg_description dsc ON i.indexrelid=dsc.objoid
WHERE  i.indrelid={{oid:orders}} ORDER BY c.relname

-- @@ dbeaver: view definition (opening big_orders)
-- source: DBeaver PostgreViewBase reads the view body with pg_get_viewdef(oid, true) (clients.md §1.2 shows the same call from psql)
-- expect: amount > 
SELECT pg_catalog.pg_get_viewdef({{oid:big_orders}}, true)

-- ===========================================================================================================
-- Tableau.  Connect checks and pgjdbc DatabaseMetaData (Tableau Desktop on Mac/Linux and newer Windows builds use
-- the PostgreSQL JDBC connector).  Sources: cube-js/cube#10721 (Tableau 2025.3 via pgjdbc), crate/crate#10213,
-- driver_statements.sql "jdbc" scenario (pgjdbc 42.5 DatabaseMetaData text, t1 -> orders, s1 -> public).
-- ===========================================================================================================

-- @@ tableau: temp-table capability check (create)
-- source: cube-js/cube#10721
CREATE LOCAL TEMPORARY TABLE "#Tableau___A_BE________D__F___B_____F_FF___D__C_1_Connect_Check" ("COL" INTEGER) ON COMMIT PRESERVE ROWS

-- @@ tableau: temp-table capability check (drop)
-- source: cube-js/cube#10721
DROP TABLE "#Tableau___A_BE________D__F___B_____F_FF___D__C_1_Connect_Check"

-- @@ tableau: SELECT INTO temp-table capability check
-- source: crate/crate#10213 (the issue quotes the name with '...'; Tableau's PostgreSQL dialect uses "...")
SELECT *
INTO TEMPORARY TABLE "#Tableau_1_1_Connect_CheckSelectIntoCap"
FROM (SELECT 1 AS COL) AS CHECKTEMP

-- @@ tableau: SELECT INTO capability check (cleanup)
-- source: crate/crate#10213 (drop of the table created above)
DROP TABLE "#Tableau_1_1_Connect_CheckSelectIntoCap"

-- @@ tableau: GROUP BY ordinal over a subquery
-- source: cube-js/cube#10721 (issue shows "GROUP BY 2", which PostgreSQL itself rejects; ordinal 1 is the valid form)
-- expect: 1
-- rows=1
SELECT "SUBCOL" AS "COL" FROM (SELECT 1 AS "SUBCOL") "SUBQUERY" GROUP BY 1

-- @@ tableau: pgjdbc getSchemas
-- source: driver_statements.sql jdbc
-- expect: public
SELECT nspname AS TABLE_SCHEM, NULL AS TABLE_CATALOG FROM pg_catalog.pg_namespace  WHERE nspname <> 'pg_toast' AND (nspname !~ '^pg_temp_'  OR nspname = (pg_catalog.current_schemas(true))[1]) AND (nspname !~ '^pg_toast_temp_'  OR nspname = replace((pg_catalog.current_schemas(true))[1], 'pg_temp_', 'pg_toast_temp_'))  ORDER BY TABLE_SCHEM;

-- @@ tableau: pgjdbc getTables
-- source: driver_statements.sql jdbc
-- expect: NULL|public|spend|MATERIALIZED VIEW
-- expect: NULL|public|orders|TABLE
-- expect: NULL|public|big_orders|VIEW
-- rows=3
SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, c.relname AS TABLE_NAME,  CASE n.nspname ~ '^pg_' OR n.nspname = 'information_schema'  WHEN true THEN CASE  WHEN n.nspname = 'pg_catalog' OR n.nspname = 'information_schema' THEN CASE c.relkind   WHEN 'r' THEN 'SYSTEM TABLE'   WHEN 'v' THEN 'SYSTEM VIEW'   WHEN 'i' THEN 'SYSTEM INDEX'   ELSE NULL   END  WHEN n.nspname = 'pg_toast' THEN CASE c.relkind   WHEN 'r' THEN 'SYSTEM TOAST TABLE'   WHEN 'i' THEN 'SYSTEM TOAST INDEX'   ELSE NULL   END  ELSE CASE c.relkind   WHEN 'r' THEN 'TEMPORARY TABLE'   WHEN 'p' THEN 'TEMPORARY TABLE'   WHEN 'i' THEN 'TEMPORARY INDEX'   WHEN 'S' THEN 'TEMPORARY SEQUENCE'   WHEN 'v' THEN 'TEMPORARY VIEW'   ELSE NULL   END  END  WHEN false THEN CASE c.relkind  WHEN 'r' THEN 'TABLE'  WHEN 'p' THEN 'PARTITIONED TABLE'  WHEN 'i' THEN 'INDEX'  WHEN 'P' then 'PARTITIONED INDEX'  WHEN 'S' THEN 'SEQUENCE'  WHEN 'v' THEN 'VIEW'  WHEN 'c' THEN 'TYPE'  WHEN 'f' THEN 'FOREIGN TABLE'  WHEN 'm' THEN 'MATERIALIZED VIEW'  ELSE NULL  END  ELSE NULL  END  AS TABLE_TYPE, d.description AS REMARKS,  '' as TYPE_CAT, '' as TYPE_SCHEM, '' as TYPE_NAME, '' AS SELF_REFERENCING_COL_NAME, '' AS REF_GENERATION  FROM pg_catalog.pg_namespace n, pg_catalog.pg_class c  LEFT JOIN pg_catalog.pg_description d ON (c.oid = d.objoid AND d.objsubid = 0  and d.classoid = 'pg_class'::regclass)  WHERE c.relnamespace = n.oid  AND n.nspname LIKE 'public' AND c.relname LIKE '%' AND (false  OR ( c.relkind = 'r' AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' )  OR ( c.relkind = 'v' AND n.nspname <> 'pg_catalog' AND n.nspname <> 'information_schema' )  OR ( c.relkind = 'm' ) )  ORDER BY TABLE_TYPE,TABLE_SCHEM,TABLE_NAME;

-- @@ tableau: pgjdbc getColumns
-- source: driver_statements.sql jdbc
-- expect: public|orders|id|23|f|-1|4|-1|1|NULL|NULL|NULL|NULL|0|b
-- expect: public|orders|amount|1700|f|655366|
-- rows=4
SELECT * FROM (SELECT n.nspname,c.relname,a.attname,a.atttypid,a.attnotnull OR (t.typtype = 'd' AND t.typnotnull) AS attnotnull,a.atttypmod,a.attlen,t.typtypmod,row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) AS attnum, nullif(a.attidentity, '') as attidentity,nullif(a.attgenerated, '') as attgenerated,pg_catalog.pg_get_expr(def.adbin, def.adrelid) AS adsrc,dsc.description,t.typbasetype,t.typtype  FROM pg_catalog.pg_namespace n  JOIN pg_catalog.pg_class c ON (c.relnamespace = n.oid)  JOIN pg_catalog.pg_attribute a ON (a.attrelid=c.oid)  JOIN pg_catalog.pg_type t ON (a.atttypid = t.oid)  LEFT JOIN pg_catalog.pg_attrdef def ON (a.attrelid=def.adrelid AND a.attnum = def.adnum)  LEFT JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)  LEFT JOIN pg_catalog.pg_class dc ON (dc.oid=dsc.classoid AND dc.relname='pg_class')  LEFT JOIN pg_catalog.pg_namespace dn ON (dc.relnamespace=dn.oid AND dn.nspname='pg_catalog')  WHERE c.relkind in ('r','p','v','f','m') and a.attnum > 0 AND NOT a.attisdropped  AND n.nspname LIKE 'public' AND c.relname LIKE 'orders') c WHERE true  AND attname LIKE '%' ORDER BY nspname,c.relname,attnum;

-- @@ tableau: pgjdbc getPrimaryKeys
-- source: driver_statements.sql jdbc
-- rows=0
SELECT        result.TABLE_CAT,        result.TABLE_SCHEM,        result.TABLE_NAME,        result.COLUMN_NAME,        result.KEY_SEQ,        result.PK_NAME FROM      (SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM,   ct.relname AS TABLE_NAME, a.attname AS COLUMN_NAME,   (information_schema._pg_expandarray(i.indkey)).n AS KEY_SEQ, ci.relname AS PK_NAME,   information_schema._pg_expandarray(i.indkey) AS KEYS, a.attnum AS A_ATTNUM FROM pg_catalog.pg_class ct   JOIN pg_catalog.pg_attribute a ON (ct.oid = a.attrelid)   JOIN pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid)   JOIN pg_catalog.pg_index i ON ( a.attrelid = i.indrelid)   JOIN pg_catalog.pg_class ci ON (ci.oid = i.indexrelid) WHERE true  AND n.nspname = 'public' AND ct.relname = 'orders' AND i.indisprimary  ) result where  result.A_ATTNUM = (result.KEYS).x  ORDER BY result.table_name, result.pk_name, result.key_seq;

-- @@ tableau: pgjdbc max_index_keys
-- source: driver_statements.sql jdbc
-- expect: 32
SELECT setting FROM pg_catalog.pg_settings WHERE name='max_index_keys';

-- @@ tableau: pgjdbc getImportedKeys
-- source: driver_statements.sql jdbc
-- rows=0
SELECT NULL::text AS PKTABLE_CAT, pkn.nspname AS PKTABLE_SCHEM, pkc.relname AS PKTABLE_NAME, pka.attname AS PKCOLUMN_NAME, NULL::text AS FKTABLE_CAT, fkn.nspname AS FKTABLE_SCHEM, fkc.relname AS FKTABLE_NAME, fka.attname AS FKCOLUMN_NAME, pos.n AS KEY_SEQ, CASE con.confupdtype  WHEN 'c' THEN 0 WHEN 'n' THEN 2 WHEN 'd' THEN 4 WHEN 'r' THEN 1 WHEN 'p' THEN 1 WHEN 'a' THEN 3 ELSE NULL END AS UPDATE_RULE, CASE con.confdeltype  WHEN 'c' THEN 0 WHEN 'n' THEN 2 WHEN 'd' THEN 4 WHEN 'r' THEN 1 WHEN 'p' THEN 1 WHEN 'a' THEN 3 ELSE NULL END AS DELETE_RULE, con.conname AS FK_NAME, pkic.relname AS PK_NAME, CASE  WHEN con.condeferrable AND con.condeferred THEN 5 WHEN con.condeferrable THEN 6 ELSE 7 END AS DEFERRABILITY  FROM  pg_catalog.pg_namespace pkn, pg_catalog.pg_class pkc, pg_catalog.pg_attribute pka,  pg_catalog.pg_namespace fkn, pg_catalog.pg_class fkc, pg_catalog.pg_attribute fka,  pg_catalog.pg_constraint con,  pg_catalog.generate_series(1, 32) pos(n),  pg_catalog.pg_class pkic WHERE pkn.oid = pkc.relnamespace AND pkc.oid = pka.attrelid AND pka.attnum = con.confkey[pos.n] AND con.confrelid = pkc.oid  AND fkn.oid = fkc.relnamespace AND fkc.oid = fka.attrelid AND fka.attnum = con.conkey[pos.n] AND con.conrelid = fkc.oid  AND con.contype = 'f' AND (pkic.relkind = 'i' OR pkic.relkind = 'I') AND pkic.oid = con.conindid  AND fkn.nspname = 'public' AND fkc.relname = 'orders' ORDER BY pkn.nspname,pkc.relname, con.conname,pos.n;

-- @@ tableau: pgjdbc ResultSetMetaData column lookup (table OID + attnum from RowDescription)
-- source: driver_statements.sql jdbc (JOIN (SELECT 16385 AS oid , 2 AS attnum) vals)
-- expect: {{oid:orders}}|2|customer|orders|public|f|NULL
-- rows=1
SELECT c.oid, a.attnum, a.attname, c.relname, n.nspname, a.attnotnull OR (t.typtype = 'd' AND t.typnotnull), a.attidentity != '' OR pg_catalog.pg_get_expr(d.adbin, d.adrelid) LIKE '%nextval(%' FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON (c.relnamespace = n.oid) JOIN pg_catalog.pg_attribute a ON (c.oid = a.attrelid) JOIN pg_catalog.pg_type t ON (a.atttypid = t.oid) LEFT JOIN pg_catalog.pg_attrdef d ON (d.adrelid = a.attrelid AND d.adnum = a.attnum) JOIN (SELECT {{oid:orders}} AS oid , 2 AS attnum) vals ON (c.oid = vals.oid AND a.attnum = vals.attnum);

-- ===========================================================================================================
-- psqlODBC 13 (Tableau on Windows, Excel, Power BI ODBC).  Source: driver_statements.sql "odbc" and
-- "odbc_declare" scenarios (captured with pyodbc), t1 -> orders, OID 16385 -> {{oid:orders}}.
-- ===========================================================================================================

-- @@ psqlodbc: connect batch
-- source: driver_statements.sql odbc (one simple Query with three statements)
-- note: psqlODBC parses the level; 'read committed' on PostgreSQL, any valid level is acceptable
-- rows=1
SET DateStyle = 'ISO';SET extra_float_digits = 2;show transaction_isolation;

-- @@ psqlodbc: large-object type probe
-- source: driver_statements.sql odbc
-- rows=0
select oid, typbasetype from pg_type where typname = 'lo';

-- @@ psqlodbc: SQLTables
-- source: driver_statements.sql odbc
-- expect: orders|public|r
-- expect: big_orders|public|v
-- expect: spend|public|m
-- rows=3
select relname, nspname, relkind from pg_catalog.pg_class c, pg_catalog.pg_namespace n where relkind in ('r', 'v', 'm', 'f', 'p') and nspname like 'public' and nspname not in ('pg_catalog', 'information_schema', 'pg_toast', 'pg_temp_1') and n.oid = relnamespace order by nspname, relname;

-- @@ psqlodbc: current_schema
-- source: driver_statements.sql odbc
-- expect: public
select current_schema();

-- @@ psqlodbc: SQLColumns by name
-- source: driver_statements.sql odbc
-- expect: public|orders|id|23|int4|1|4|-1|f|f|r|{{oid:orders}}|NULL|0|-1|0||f
-- expect: public|orders|amount|1700|numeric|3|-1|655366|
-- rows=4
select n.nspname, c.relname, a.attname, a.atttypid, t.typname, a.attnum, a.attlen, a.atttypmod, a.attnotnull, c.relhasrules, c.relkind, c.oid, pg_get_expr(d.adbin, d.adrelid), case t.typtype when 'd' then t.typbasetype else 0 end, t.typtypmod, 0, attidentity, c.relhassubclass from (((pg_catalog.pg_class c inner join pg_catalog.pg_namespace n on n.oid = c.relnamespace and c.relname like 'orders' and n.nspname like 'public') inner join pg_catalog.pg_attribute a on (not a.attisdropped) and a.attnum > 0 and a.attrelid = c.oid) inner join pg_catalog.pg_type t on t.oid = a.atttypid) left outer join pg_attrdef d on a.atthasdef and d.adrelid = a.attrelid and d.adnum = a.attnum order by n.nspname, c.relname, attnum;

-- @@ psqlodbc: column metadata by table OID (SQLDescribeCol)
-- source: driver_statements.sql odbc
-- expect: public|orders|customer|25|text|2
-- rows=4
select n.nspname, c.relname, a.attname, a.atttypid, t.typname, a.attnum, a.attlen, a.atttypmod, a.attnotnull, c.relhasrules, c.relkind, c.oid, pg_get_expr(d.adbin, d.adrelid), case t.typtype when 'd' then t.typbasetype else 0 end, t.typtypmod, 0, attidentity, c.relhassubclass from (((pg_catalog.pg_class c inner join pg_catalog.pg_namespace n on n.oid = c.relnamespace and c.oid = {{oid:orders}}) inner join pg_catalog.pg_attribute a on (not a.attisdropped) and a.attnum > 0 and a.attrelid = c.oid) inner join pg_catalog.pg_type t on t.oid = a.atttypid) left outer join pg_attrdef d on a.atthasdef and d.adrelid = a.attrelid and d.adnum = a.attnum order by n.nspname, c.relname, attnum;

-- @@ psqlodbc: UseDeclareFetch cursor open + first fetch
-- source: driver_statements.sql odbc_declare
-- expect: 1|alice|
-- rows=4
BEGIN;declare "SQL_CUR0x55f2eebdf7f0" cursor with hold for SELECT id, customer, amount, at FROM orders ORDER BY id;fetch 100 in "SQL_CUR0x55f2eebdf7f0";

-- @@ psqlodbc: cursor close
-- source: driver_statements.sql odbc_declare
close "SQL_CUR0x55f2eebdf7f0";

-- @@ psqlodbc: end of transaction
-- source: driver_statements.sql odbc_declare
COMMIT;

-- @@ psqlodbc: per-statement savepoints (Protocol=7.4-2 / rollback on error)
-- source: driver_statements.sql odbc (BEGIN; SAVEPOINT _EXEC_SVP_...; statement; SAVEPOINT/DEALLOCATE/RELEASE), plan name replaced by a prepared one created here
BEGIN;SAVEPOINT _EXEC_SVP_0x55f30adf0040;PREPARE "_PLAN0x55f30adf17f0" AS SELECT id FROM orders;RELEASE _EXEC_SVP_0x55f30adf0040;SAVEPOINT _per_query_svp_;DEALLOCATE "_PLAN0x55f30adf17f0";RELEASE _per_query_svp_;COMMIT;

-- ===========================================================================================================
-- Power BI Desktop (Npgsql 4.0.x bundled with the PostgreSQL connector).  Sources: Npgsql 4.0
-- PostgresDatabaseInfo.GenerateTypesQuery (text as quoted in ravendb PgRvn PowerBIConfig and other
-- reimplementations), Npgsql NpgsqlSchema.GetTables/GetColumns/GetViews (GetSchema), Power BI navigator
-- relationship queries from datafusion-postgres#218 (PostgreSQL server log of Power BI) and ravendb
-- PowerBIConfig, clients.md §3.6.
-- ===========================================================================================================

-- @@ powerbi: Npgsql 4.0 type loading (whole batch as sent at first connect)
-- source: Npgsql 4.0 PostgresDatabaseInfo (version + types + composites + enums in one Query)
-- expect: PostgreSQL
-- expect: pg_catalog|int4|23|0|0|b|0|0
-- expect: pg_catalog|_int4|1007|0|0|a|23|3
SELECT version();

/*** Load all supported types ***/
SELECT ns.nspname, a.typname, a.oid, a.typrelid, a.typbasetype,
CASE WHEN pg_proc.proname='array_recv' THEN 'a' ELSE a.typtype END AS type,
CASE
  WHEN pg_proc.proname='array_recv' THEN a.typelem
  WHEN a.typtype='r' THEN rngsubtype
  ELSE 0
END AS elemoid,
CASE
  WHEN pg_proc.proname IN ('array_recv','oidvectorrecv') THEN 3    /* Arrays last */
  WHEN a.typtype='r' THEN 2                                        /* Ranges before */
  WHEN a.typtype='d' THEN 1                                        /* Domains before */
  ELSE 0                                                           /* Base types first */
END AS ord
FROM pg_type AS a
JOIN pg_namespace AS ns ON (ns.oid = a.typnamespace)
JOIN pg_proc ON pg_proc.oid = a.typreceive
LEFT OUTER JOIN pg_class AS cls ON (cls.oid = a.typrelid)
LEFT OUTER JOIN pg_type AS b ON (b.oid = a.typelem)
LEFT OUTER JOIN pg_class AS elemcls ON (elemcls.oid = b.typrelid)
LEFT OUTER JOIN pg_range ON (pg_range.rngtypid = a.oid) 
WHERE
  a.typtype IN ('b', 'r', 'e', 'd') OR         /* Base, range, enum, domain */
  (a.typtype = 'c' AND cls.relkind='c') OR /* User-defined free-standing composites (not table composites) by default */
  (pg_proc.proname='array_recv' AND (
    b.typtype IN ('b', 'r', 'e', 'd') OR       /* Array of base, range, enum, domain */
    (b.typtype = 'p' AND b.typname IN ('record', 'void')) OR /* Arrays of special supported pseudo-types */
    (b.typtype = 'c' AND elemcls.relkind='c')  /* Array of user-defined free-standing composites (not table composites) */
  )) OR
  (a.typtype = 'p' AND a.typname IN ('record', 'void'))  /* Some special supported pseudo-types */
ORDER BY ord;

/*** Load field definitions for (free-standing) composite types ***/
SELECT typ.oid, att.attname, att.atttypid
FROM pg_type AS typ
JOIN pg_namespace AS ns ON (ns.oid = typ.typnamespace)
JOIN pg_class AS cls ON (cls.oid = typ.typrelid)
JOIN pg_attribute AS att ON (att.attrelid = typ.typrelid)
WHERE
  (typ.typtype = 'c' AND cls.relkind='c') AND
  attnum > 0 AND     /* Don't load system attributes */
  NOT attisdropped
ORDER BY typ.oid, att.attnum;

/*** Load enum fields ***/
SELECT pg_type.oid, enumlabel
FROM pg_enum
JOIN pg_type ON pg_type.oid=enumtypid
ORDER BY oid, enumsortorder;

-- @@ powerbi: Npgsql 4.0 type loading (types query alone)
-- source: Npgsql 4.0 PostgresDatabaseInfo.GenerateTypesQuery(withRange, withEnum, withEnumSortOrder, loadTableComposites=false)
-- note: the same text as in the batch above, sent alone so a failure is attributed to this query
-- expect: pg_catalog|text|25|0|0|b|0|0
-- expect: pg_catalog|numeric|1700|0|0|b|0|0
-- expect: pg_catalog|timestamp|1114|0|0|b|0|0
-- expect: pg_catalog|_text|1009|0|0|a|25|3
-- rows>=40
/*** Load all supported types ***/
SELECT ns.nspname, a.typname, a.oid, a.typrelid, a.typbasetype,
CASE WHEN pg_proc.proname='array_recv' THEN 'a' ELSE a.typtype END AS type,
CASE
  WHEN pg_proc.proname='array_recv' THEN a.typelem
  WHEN a.typtype='r' THEN rngsubtype
  ELSE 0
END AS elemoid,
CASE
  WHEN pg_proc.proname IN ('array_recv','oidvectorrecv') THEN 3    /* Arrays last */
  WHEN a.typtype='r' THEN 2                                        /* Ranges before */
  WHEN a.typtype='d' THEN 1                                        /* Domains before */
  ELSE 0                                                           /* Base types first */
END AS ord
FROM pg_type AS a
JOIN pg_namespace AS ns ON (ns.oid = a.typnamespace)
JOIN pg_proc ON pg_proc.oid = a.typreceive
LEFT OUTER JOIN pg_class AS cls ON (cls.oid = a.typrelid)
LEFT OUTER JOIN pg_type AS b ON (b.oid = a.typelem)
LEFT OUTER JOIN pg_class AS elemcls ON (elemcls.oid = b.typrelid)
LEFT OUTER JOIN pg_range ON (pg_range.rngtypid = a.oid) 
WHERE
  a.typtype IN ('b', 'r', 'e', 'd') OR         /* Base, range, enum, domain */
  (a.typtype = 'c' AND cls.relkind='c') OR /* User-defined free-standing composites (not table composites) by default */
  (pg_proc.proname='array_recv' AND (
    b.typtype IN ('b', 'r', 'e', 'd') OR       /* Array of base, range, enum, domain */
    (b.typtype = 'p' AND b.typname IN ('record', 'void')) OR /* Arrays of special supported pseudo-types */
    (b.typtype = 'c' AND elemcls.relkind='c')  /* Array of user-defined free-standing composites (not table composites) */
  )) OR
  (a.typtype = 'p' AND a.typname IN ('record', 'void'))  /* Some special supported pseudo-types */
ORDER BY ord

-- @@ powerbi: pooled connection reset
-- source: datafusion-postgres#218 (Power BI log: "statement: DISCARD ALL")
DISCARD ALL

-- @@ powerbi: navigator table list (GetSchema "Tables")
-- source: Npgsql NpgsqlSchema.GetTables
-- expect: {{db}}|public|orders|BASE TABLE
-- rows=1
SELECT table_catalog, table_schema, table_name, table_type
FROM information_schema.tables
WHERE
    table_type IN ('BASE TABLE', 'FOREIGN', 'FOREIGN TABLE') AND
    table_schema NOT IN ('pg_catalog', 'information_schema')

-- @@ powerbi: navigator view list (GetSchema "Views")
-- source: Npgsql NpgsqlSchema.GetViews
-- expect: {{db}}|public|big_orders|NONE|
-- rows=1
SELECT table_catalog, table_schema, table_name, check_option, is_updatable
FROM information_schema.views
WHERE table_schema NOT IN ('pg_catalog', 'information_schema')

-- @@ powerbi: column list (GetSchema "Columns" with table restriction)
-- source: Npgsql NpgsqlSchema.GetColumns (restriction appended by BuildCommand, value inlined)
-- expect: {{db}}|public|orders|id|1|NULL|YES|integer|NULL|NULL|32|2|0|NULL
-- expect: {{db}}|public|orders|amount|3|NULL|YES|numeric|NULL|NULL|10|10|2|NULL
-- expect: {{db}}|public|orders|customer|2|NULL|YES|text|NULL|1073741824|
-- expect: {{db}}|public|orders|at|4|NULL|YES|timestamp without time zone|NULL|NULL|NULL|NULL|NULL|6
-- rows=4
SELECT
    table_catalog, table_schema, table_name, column_name, ordinal_position, column_default, is_nullable,
    udt_name::regtype::text AS data_type, character_maximum_length, character_octet_length, numeric_precision,
    numeric_precision_radix, numeric_scale, datetime_precision, character_set_catalog, character_set_schema,
    character_set_name, collation_catalog
FROM information_schema.columns WHERE table_name = 'orders'

-- @@ powerbi: relationship columns (foreign keys pointing from orders)
-- source: datafusion-postgres#218 (Power BI log, "Select Related Tables"); user table name replaced, the WHERE tail
-- note: after "where fkcol.TABLE_SCHEMA" completed as schema/table equality, the log shows the ORDER BY
-- rows=0
select
    pkcol.TABLE_SCHEMA AS PK_TABLE_SCHEMA,
    pkcol.TABLE_NAME AS PK_TABLE_NAME,
    pkcol.COLUMN_NAME as PK_COLUMN_NAME,
    fkcol.COLUMN_NAME as FK_COLUMN_NAME,
    fkcol.ORDINAL_POSITION as ORDINAL,
    fkcon.CONSTRAINT_SCHEMA || '_' || 'orders' || '_' || pkcol.TABLE_NAME || '_' || fkcon.CONSTRAINT_NAME as FK_NAME
from
    (select distinct constraint_catalog, constraint_schema, unique_constraint_schema, constraint_name, unique_constraint_name
        from INFORMATION_SCHEMA.REFERENTIAL_CONSTRAINTS) fkcon
        inner join
    INFORMATION_SCHEMA.KEY_COLUMN_USAGE fkcol
        on fkcon.CONSTRAINT_SCHEMA = fkcol.CONSTRAINT_SCHEMA
        and fkcon.CONSTRAINT_NAME = fkcol.CONSTRAINT_NAME
        inner join
    INFORMATION_SCHEMA.KEY_COLUMN_USAGE pkcol
        on fkcon.UNIQUE_CONSTRAINT_SCHEMA = pkcol.CONSTRAINT_SCHEMA
        and fkcon.UNIQUE_CONSTRAINT_NAME = pkcol.CONSTRAINT_NAME
where fkcol.TABLE_SCHEMA = 'public' and fkcol.TABLE_NAME = 'orders'
        and pkcol.ORDINAL_POSITION = fkcol.ORDINAL_POSITION
order by FK_NAME, fkcol.ORDINAL_POSITION

-- @@ powerbi: relationship columns (foreign keys pointing to orders)
-- source: ravendb PgRvn PowerBIConfig.TableSchemaQuery (prefix) + datafusion-postgres#218 (join shape); tail completed
-- rows=0
select
    pkcol.COLUMN_NAME as PK_COLUMN_NAME,
    fkcol.TABLE_SCHEMA AS FK_TABLE_SCHEMA,
    fkcol.TABLE_NAME AS FK_TABLE_NAME,
    fkcol.COLUMN_NAME as FK_COLUMN_NAME,
    fkcol.ORDINAL_POSITION as ORDINAL,
    fkcon.CONSTRAINT_SCHEMA || '_' || fkcol.TABLE_NAME || '_' || 'orders' || '_' || fkcon.CONSTRAINT_NAME as FK_NAME
from
    (select distinct constraint_catalog, constraint_schema, unique_constraint_schema, constraint_name, unique_constraint_name
        from INFORMATION_SCHEMA.REFERENTIAL_CONSTRAINTS) fkcon
        inner join
    INFORMATION_SCHEMA.KEY_COLUMN_USAGE fkcol
        on fkcon.CONSTRAINT_SCHEMA = fkcol.CONSTRAINT_SCHEMA
        and fkcon.CONSTRAINT_NAME = fkcol.CONSTRAINT_NAME
        inner join
    INFORMATION_SCHEMA.KEY_COLUMN_USAGE pkcol
        on fkcon.UNIQUE_CONSTRAINT_SCHEMA = pkcol.CONSTRAINT_SCHEMA
        and fkcon.UNIQUE_CONSTRAINT_NAME = pkcol.CONSTRAINT_NAME
where pkcol.TABLE_SCHEMA = 'public' and pkcol.TABLE_NAME = 'orders'
        and pkcol.ORDINAL_POSITION = fkcol.ORDINAL_POSITION
order by FK_NAME, fkcol.ORDINAL_POSITION

-- @@ powerbi: key / index columns of orders
-- source: ravendb PgRvn PowerBIConfig.ConstraintsQuery (select/from/join verbatim); WHERE for the table added
-- rows=0
select i.CONSTRAINT_SCHEMA || '_' || i.CONSTRAINT_NAME as INDEX_NAME, ii.COLUMN_NAME, ii.ORDINAL_POSITION, case when i.CONSTRAINT_TYPE = 'PRIMARY KEY' then 'Y' else 'N' end as PRIMARY_KEY
from INFORMATION_SCHEMA.table_constraints i inner join INFORMATION_SCHEMA.key_column_usage ii on i.CONSTRAINT_SCHEMA = ii.CONSTRAINT_SCHEMA and i.CONSTRAINT_NAME = ii.CONSTRAINT_NAME and i.TABLE_SCHEMA = ii.TABLE_SCHEMA and i.TABLE_NAME = ii.TABLE_NAME
where i.TABLE_SCHEMA = 'public' and i.TABLE_NAME = 'orders'

-- @@ powerbi: character set of the database
-- source: duckdb/duckdb#10222 and clients.md §3.6 (Power BI reads information_schema.character_sets); exact text not published
-- expect: UTF8
-- rows=1
select character_set_name from INFORMATION_SCHEMA.character_sets

-- ===========================================================================================================
-- pgAdmin 4 (psycopg 3).  Source: pgadmin4 web/pgadmin/utils/driver/psycopg3/connection.py (_initialize,
-- _set_user_info), recorded pgAdmin server logs quoted in public repos.
-- ===========================================================================================================

-- @@ pgadmin: connect batch
-- source: pgadmin connection.py _initialize (one Query; pgAdmin closes the connection if any part fails)
-- expect: hex
SET DateStyle=ISO; SET client_min_messages=notice; SELECT set_config('bytea_output','hex',false) FROM pg_show_all_settings() WHERE name = 'bytea_output'; SET client_encoding='utf-8';

-- @@ pgadmin: version
-- source: pgadmin connection.py
-- expect: PostgreSQL
SELECT version()

-- @@ pgadmin: database info
-- source: pgadmin connection.py (pg_database lookup after connect)
-- expect: {{db}}|t|UTF8|t|f
-- rows=1
SELECT db.oid as did, db.datname, db.datallowconn,
       pg_encoding_to_char(db.encoding) AS serverencoding,
       has_database_privilege(db.oid, 'CREATE') as cancreate,
       datistemplate
FROM pg_catalog.pg_database db
WHERE db.datname = current_database()

-- @@ pgadmin: GSSAPI status (server_version >= 12)
-- source: pgadmin server log (pg_stat_gssapi WHERE pid = pg_backend_pid())
-- rows=1
SELECT
gss_authenticated, encrypted
FROM
pg_catalog.pg_stat_gssapi
WHERE pid = pg_backend_pid()

-- @@ pgadmin: user info
-- source: pgadmin connection.py _set_user_info
-- rows=1
SELECT
    roles.oid as id, roles.rolname as name,
    roles.rolsuper as is_superuser,
    CASE WHEN roles.rolsuper THEN true ELSE roles.rolcreaterole END as
    can_create_role,
    CASE WHEN roles.rolsuper THEN true
    ELSE roles.rolcreatedb END as can_create_db,
    CASE WHEN 'pg_signal_backend'=ANY(ARRAY(WITH RECURSIVE cte AS (
    SELECT pg_roles.oid,pg_roles.rolname FROM pg_roles
        WHERE pg_roles.oid = roles.oid
    UNION ALL
    SELECT m.roleid,pgr.rolname FROM cte cte_1
        JOIN pg_auth_members m ON m.member = cte_1.oid
        JOIN pg_roles pgr ON pgr.oid = m.roleid)
    SELECT rolname  FROM cte)) THEN True
    ELSE False END as can_signal_backend
FROM
    pg_catalog.pg_roles as roles
WHERE
    rolname = current_user

-- ===========================================================================================================
-- pgcli (psycopg 3).  Source: datafusion-postgres tests/pgcli.rs (pgcli pgexecute.py startup/completion
-- refresh queries).
-- ===========================================================================================================

-- @@ pgcli: ping
-- source: pgcli.rs
SELECT 1

-- @@ pgcli: show time zone
-- source: pgcli.rs
-- rows=1
show time zone

-- @@ pgcli: set time zone
-- source: pgcli.rs
set time zone "Asia/Shanghai"

-- @@ pgcli: search path
-- source: pgcli.rs
-- expect: public
SELECT * FROM unnest(current_schemas(true))

-- @@ pgcli: schemata
-- source: pgcli.rs
-- expect: public
SELECT  nspname
                FROM    pg_catalog.pg_namespace
                ORDER BY 1

-- @@ pgcli: tables
-- source: pgcli.rs
-- expect: public|orders
SELECT  n.nspname schema_name,
                        c.relname table_name
                FROM    pg_catalog.pg_class c
                        LEFT JOIN pg_catalog.pg_namespace n
                            ON n.oid = c.relnamespace
                WHERE   c.relkind = ANY('{r,p,f}')
                ORDER BY 1,2;

-- @@ pgcli: table columns
-- source: pgcli.rs
-- expect: public|orders|amount|numeric|f|NULL
-- expect: public|orders|at|timestamp without time zone|f|NULL
SELECT  nsp.nspname schema_name,
                                cls.relname table_name,
                                att.attname column_name,
                                att.atttypid::regtype::text type_name,
                                att.atthasdef AS has_default,
                                pg_catalog.pg_get_expr(def.adbin, def.adrelid, true) as default
                        FROM    pg_catalog.pg_attribute att
                                INNER JOIN pg_catalog.pg_class cls
                                    ON att.attrelid = cls.oid
                                INNER JOIN pg_catalog.pg_namespace nsp
                                    ON cls.relnamespace = nsp.oid
                                LEFT OUTER JOIN pg_attrdef def
                                    ON def.adrelid = att.attrelid
                                    AND def.adnum = att.attnum
                        WHERE   cls.relkind = ANY('{r,p,f}')
                                AND NOT att.attisdropped
                                AND att.attnum  > 0
                        ORDER BY 1, 2, att.attnum

-- @@ pgcli: foreign keys
-- source: pgcli.rs
SELECT s_p.nspname AS parentschema,
                               t_p.relname AS parenttable,
                               unnest((
                                select
                                    array_agg(attname ORDER BY i)
                                from
                                    (select unnest(confkey) as attnum, generate_subscripts(confkey, 1) as i) x
                                    JOIN pg_catalog.pg_attribute c USING(attnum)
                                    WHERE c.attrelid = fk.confrelid
                                )) AS parentcolumn,
                               s_c.nspname AS childschema,
                               t_c.relname AS childtable,
                               unnest((
                                select
                                    array_agg(attname ORDER BY i)
                                from
                                    (select unnest(conkey) as attnum, generate_subscripts(conkey, 1) as i) x
                                    JOIN pg_catalog.pg_attribute c USING(attnum)
                                    WHERE c.attrelid = fk.conrelid
                                )) AS childcolumn
                        FROM pg_catalog.pg_constraint fk
                        JOIN pg_catalog.pg_class      t_p ON t_p.oid = fk.confrelid
                        JOIN pg_catalog.pg_namespace  s_p ON s_p.oid = t_p.relnamespace
                        JOIN pg_catalog.pg_class      t_c ON t_c.oid = fk.conrelid
                        JOIN pg_catalog.pg_namespace  s_c ON s_c.oid = t_c.relnamespace
                        WHERE fk.contype = 'f'

-- @@ pgcli: views and materialized views
-- source: pgcli.rs
-- expect: public|big_orders
-- expect: public|spend
SELECT  n.nspname schema_name,
                        c.relname table_name
                FROM    pg_catalog.pg_class c
                        LEFT JOIN pg_catalog.pg_namespace n
                            ON n.oid = c.relnamespace
                WHERE   c.relkind = ANY('{v,m}')
                ORDER BY 1,2;

-- @@ pgcli: view columns
-- source: pgcli.rs
-- expect: public|spend|total|numeric|f|NULL
SELECT  nsp.nspname schema_name,
                                cls.relname table_name,
                                att.attname column_name,
                                att.atttypid::regtype::text type_name,
                                att.atthasdef AS has_default,
                                pg_catalog.pg_get_expr(def.adbin, def.adrelid, true) as default
                        FROM    pg_catalog.pg_attribute att
                                INNER JOIN pg_catalog.pg_class cls
                                    ON att.attrelid = cls.oid
                                INNER JOIN pg_catalog.pg_namespace nsp
                                    ON cls.relnamespace = nsp.oid
                                LEFT OUTER JOIN pg_attrdef def
                                    ON def.adrelid = att.attrelid
                                    AND def.adnum = att.attnum
                        WHERE   cls.relkind = ANY('{v,m}')
                                AND NOT att.attisdropped
                                AND att.attnum  > 0
                        ORDER BY 1, 2, att.attnum

-- @@ pgcli: user-defined types
-- source: pgcli.rs
SELECT n.nspname schema_name,
                                   t.typname type_name
                            FROM   pg_catalog.pg_type t
                                   INNER JOIN pg_catalog.pg_namespace n
                                      ON n.oid = t.typnamespace
                            WHERE ( t.typrelid = 0  -- non-composite types
                                    OR (  -- composite type, but not a table
                                          SELECT c.relkind = 'c'
                                          FROM pg_catalog.pg_class c
                                          WHERE c.oid = t.typrelid
                                        )
                                  )
                                  AND NOT EXISTS( -- ignore array types
                                        SELECT  1
                                        FROM    pg_catalog.pg_type el
                                        WHERE   el.oid = t.typelem AND el.typarray = t.oid
                                      )
                                  AND n.nspname <> 'pg_catalog'
                                  AND n.nspname <> 'information_schema'
                            ORDER BY 1, 2

-- @@ pgcli: databases
-- source: pgcli.rs
-- expect: {{db}}
SELECT d.datname
                FROM pg_catalog.pg_database d
                ORDER BY 1

-- @@ pgcli: functions
-- source: pgcli.rs
-- rows>=100
SELECT n.nspname schema_name,
                                p.proname func_name,
                                p.proargnames,
                                COALESCE(proallargtypes::regtype[], proargtypes::regtype[])::text[],
                                p.proargmodes,
                                prorettype::regtype::text return_type,
                                p.prokind = 'a' is_aggregate,
                                p.prokind = 'w' is_window,
                                p.proretset is_set_returning,
                                d.deptype = 'e' is_extension,
                                pg_get_expr(proargdefaults, 0) AS arg_defaults
                        FROM pg_catalog.pg_proc p
                                INNER JOIN pg_catalog.pg_namespace n
                                    ON n.oid = p.pronamespace
                        LEFT JOIN pg_depend d ON d.objid = p.oid and d.deptype = 'e'
                        WHERE p.prorettype::regtype != 'trigger'::regtype
                        ORDER BY 1, 2

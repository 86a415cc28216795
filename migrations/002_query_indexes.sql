-- TinyCRM schema, version 2: what the customer list, its filters, the export
-- and the insights need to stay fast on millions of customers.
--
-- Every index here costs ingest throughput, so only those a query uses are
-- made. The big one is the last_seen index: identify moves customers.last_seen
-- on nearly every call, and with that column indexed the customer row update
-- can no longer be HOT, so each identify also writes one entry into every
-- customers index below. That is the price of opening a million customers,
-- newest first, as fast as a hundred (and of every other sort in the TUI).
-- Memberships get no last_seen index for the same reason: ping and identify
-- move it on every call and their updates stay HOT.

-- One btree per sort key of the customer list (SPEC §4). A keyset page is a
-- range scan, forwards or backwards, on (workspace_id, key, id); the id makes
-- the order total. Email needs none: UNIQUE (workspace_id, email) serves it.
CREATE INDEX customers_last_seen ON customers (workspace_id, last_seen, id);
CREATE INDEX customers_first_seen ON customers (workspace_id, first_seen, id);
CREATE INDEX customers_name ON customers (workspace_id, name, id);
-- Also min_projects / --multi-project and the stats' multi_project count.
CREATE INDEX customers_projects ON customers (workspace_id, project_count, id);
-- Also the revenue insight (top customers, top decile).
CREATE INDEX customers_mrr ON customers (workspace_id, mrr_total, id);

-- where key=value on params: the store turns equality on text and numbers
-- into params @> {"key": value}, which this index answers. jsonb_path_ops is
-- smaller and faster to update than the default opclass, and the store never
-- uses ? or ?| with it. Params change far less often than last_seen, so
-- identify's membership updates stay HOT when params do not change.
CREATE INDEX memberships_params ON memberships USING gin (params jsonb_path_ops);

-- status filters and the upsell and churn-risk insights look memberships up
-- by status (paid, free, trialing, churned) across the workspace.
CREATE INDEX memberships_status ON memberships (workspace_id, status, customer_id);

-- tinycrm_time reads a params string holding an ISO date (a UTC day, taken
-- at midnight) or an RFC 3339 timestamp; anything else, including strings
-- shaped like a date that is not one (2026-02-30), is NULL, so bad data
-- never makes a filter fail. The exception block is a subtransaction, which
-- no query in parallel mode may start (not even the leader above a Gather):
-- hence PARALLEL UNSAFE, which keeps queries using it out of parallel plans.
CREATE FUNCTION tinycrm_time(s text) RETURNS timestamptz
LANGUAGE plpgsql STABLE STRICT PARALLEL UNSAFE AS $$
BEGIN
    IF s !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|z|[+-][0-9]{2}:[0-9]{2}))?$' THEN
        RETURN NULL;
    END IF;
    BEGIN
        IF length(s) = 10 THEN
            RETURN s::date::timestamp AT TIME ZONE 'UTC';
        END IF;
        RETURN s::timestamptz;
    EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format OR data_exception THEN
        RETURN NULL;
    END;
END
$$;

-- q (search): "substring of email or name". The text searched lives in a
-- narrow side table, written by ingest when it creates customers (one
-- set-based insert per batch) and by a trigger when a customer is renamed,
-- so the trigram index is not rewritten on every
-- last_seen update of the hot customers table (that cost ingest a third of
-- its throughput). A trigram index makes the search an index scan; pg_trgm
-- ships with PostgreSQL's contrib (Debian's postgresql package, every managed
-- service); where it is missing, search still works, by scanning. The
-- expression must stay the one in store/customer_list.go.
CREATE TABLE customer_search (
    workspace_id  bigint NOT NULL,
    customer_id   bigint NOT NULL,
    doc           text NOT NULL,
    PRIMARY KEY (workspace_id, customer_id),
    FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id) ON DELETE CASCADE
);

CREATE FUNCTION tinycrm_search_doc() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO customer_search (workspace_id, customer_id, doc)
    VALUES (NEW.workspace_id, NEW.id, NEW.email || chr(1) || NEW.name)
    ON CONFLICT (workspace_id, customer_id) DO UPDATE SET doc = EXCLUDED.doc;
    RETURN NULL;
END
$$;

CREATE TRIGGER customers_search_rename AFTER UPDATE OF name, email ON customers
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.email IS DISTINCT FROM NEW.email)
    EXECUTE FUNCTION tinycrm_search_doc();

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        CREATE INDEX customer_search_doc ON customer_search USING gin (doc gin_trgm_ops);
    ELSE
        RAISE NOTICE 'pg_trgm is not available: customer search will scan';
    END IF;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'no trigram index for customer search (%): search will scan', SQLERRM;
END
$$;

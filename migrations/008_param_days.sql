-- TinyCRM schema, version 8: an index for where-equalities on a date in
-- params (--where 'trial_ends=2026-03-29').
--
-- Such a condition is tinycrm_time(params ->> key) within that UTC day,
-- which the params GIN index cannot answer: it finds the string
-- "2026-03-29", but not "2026-03-29T23:30:00-02:00" or any other timestamp
-- on that day. Without an index the list walked its sort index and called
-- tinycrm_time for every membership on the way: 60-150 ms a page at 1M
-- customers for a day held by 0.4 % of them (docs/benchmarks-query.md).
--
-- tinycrm_param_days lists "key=YYYY-MM-DD" for every params value that
-- tinycrm_time reads as a time, by its UTC day, and a GIN index over it
-- answers "key=day" (store/narrow.go). It is as deterministic as an index
-- needs: tinycrm_time takes only dates (read as UTC) and timestamps with an
-- offset, so the TimeZone setting never matters, and it is PARALLEL UNSAFE
-- because tinycrm_time is.
--
-- The index is partial: only params whose JSON holds a string starting
-- like a date are indexed, so the common membership (no date in its
-- params) costs ingest one regular-expression test and no index entry.
-- Queries must repeat the predicate (tinycrm_has_days) to use it.
CREATE FUNCTION tinycrm_has_days(p jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT p::text ~ '"[0-9]{4}-[0-9]{2}-[0-9]{2}'
$$;

CREATE FUNCTION tinycrm_param_days(p jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL UNSAFE AS $$
    SELECT array_agg(e.key || '=' || to_char(tinycrm_time(e.value) AT TIME ZONE 'UTC', 'YYYY-MM-DD'))
    FROM jsonb_each_text(p) e
    WHERE tinycrm_time(e.value) IS NOT NULL
$$;

CREATE INDEX memberships_param_days ON memberships USING gin (tinycrm_param_days(params))
    WHERE tinycrm_has_days(params);

-- TinyCRM schema, version 10: short pending lists for the GIN indexes that
-- ingest writes (params, param days, search text).
--
-- With fastupdate (on by default) a GIN insert appends to the index's
-- pending list, and the insert that finds the list past
-- gin_pending_list_limit (4 MB by default) moves the whole list into the
-- index, inside its own statement. Under identify load that was a group
-- commit now and then taking 50-150 ms instead of ~8 ms, with ~20 callers
-- waiting on it: the identify p99. Every GIN search also reads the whole
-- pending list, unsorted. At 256 kB the moves are sixteen times as
-- frequent and as many times shorter. Four pairs of go run ./bench runs,
-- alternated: group commits over 50 ms 2-4 per run against 7-34, identify
-- p99 24-27 ms against 24-73 ms; identifies/s and /v1/batch the same within
-- the runs' spread (docs/benchmarks.md). fastupdate = off (every insert
-- straight into the index) halved /v1/batch.
ALTER INDEX memberships_params SET (gin_pending_list_limit = 256);
ALTER INDEX memberships_param_days SET (gin_pending_list_limit = 256);

DO $$
BEGIN
    IF to_regclass('customer_search_doc') IS NOT NULL THEN
        ALTER INDEX customer_search_doc SET (gin_pending_list_limit = 256);
    END IF;
END
$$;

-- TinyCRM schema, version 7: one index on events instead of two.
--
-- The timeline is read by customer, newest first, and deleted by customer;
-- nothing looks an event up by its id. So the primary key becomes the
-- timeline order itself (a backward scan serves ORDER BY at DESC, id DESC)
-- and every event costs one index entry fewer. An identify writes one or
-- two events, and each index entry is a measurable share of ingest
-- (docs/benchmarks.md).
ALTER TABLE events DROP CONSTRAINT events_pkey;
DROP INDEX events_customer;
ALTER TABLE events ADD PRIMARY KEY (workspace_id, customer_id, at, id);

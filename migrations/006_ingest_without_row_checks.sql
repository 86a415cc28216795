-- TinyCRM schema, version 6: the tables ingest writes lose their foreign
-- keys.
--
-- PostgreSQL checks a foreign key with one query per inserted row (an RI
-- trigger running a SELECT ... FOR KEY SHARE of the referenced row). A new
-- customer fired six of them (customer → workspace, membership → customer
-- and project, event → customer and project, search row → customer), and
-- under /v1/batch load they were 27 % of the database's time (perf,
-- docs/benchmarks.md), more than any index.
--
-- The store keeps the same guarantees with locks it takes once per batch:
-- ingest share-locks the batch's projects (FOR KEY SHARE, before the
-- customer locks, the order DeleteProject locks in), so a project cannot
-- be deleted under a batch and a batch never writes for a deleted one; it
-- writes memberships, events and search rows only for customers it holds
-- locked or has just created. Forgetting a person and deleting a project
-- remove the rows that the cascades used to (store/delete.go), and
-- TestDeletesLeaveNoOrphans checks that nothing is left behind. A
-- workspace's projects still cascade from it, so customers need no key of
-- their own to it. segment_users keeps its key to memberships: it is
-- written rarely and its cascade is what removes a forgotten mapping.
ALTER TABLE customers DROP CONSTRAINT customers_workspace_id_fkey;
ALTER TABLE memberships
    DROP CONSTRAINT memberships_workspace_id_customer_id_fkey,
    DROP CONSTRAINT memberships_workspace_id_project_id_fkey;
ALTER TABLE events
    DROP CONSTRAINT events_workspace_id_customer_id_fkey,
    DROP CONSTRAINT events_workspace_id_project_id_fkey;
ALTER TABLE customer_search DROP CONSTRAINT customer_search_workspace_id_customer_id_fkey;

-- memberships_status serves status filters only. As a plain index on
-- (workspace_id, status, customer_id) it could also serve a look-up by
-- (workspace_id, customer_id), and a generic plan made on a near-empty
-- table took it for one and kept it as the table grew. Partial, it cannot
-- serve a query without a status condition: status = ANY('{paid}')
-- implies status <> '', a look-up by customer does not.
DROP INDEX memberships_status;
CREATE INDEX memberships_status ON memberships (workspace_id, status, customer_id) WHERE status <> '';

-- TinyCRM schema, version 3: Segment userIds (SPEC §8, Segment-compatible
-- ingest). A userId seen together with an email in a project is remembered
-- here, so later Segment calls that carry only that userId (track, page, an
-- identify without traits.email) resolve to the person.
--
-- The row points at the membership, not at an email: forgetting the person
-- (or unlinking them from the project, or deleting the project) removes the
-- mapping through the cascade with no change to the forget code, and a
-- suppressed email is never written here because it has no membership.
-- workspace_id leads both keys, like every table (Citus-ready, §9).

CREATE TABLE segment_users (
    workspace_id  bigint NOT NULL,
    project_id    bigint NOT NULL,
    user_id       text NOT NULL,
    customer_id   bigint NOT NULL,
    PRIMARY KEY (workspace_id, project_id, user_id),
    FOREIGN KEY (workspace_id, customer_id, project_id)
        REFERENCES memberships (workspace_id, customer_id, project_id) ON DELETE CASCADE
);
-- The cascade from a deleted membership finds its rows through this index.
CREATE INDEX segment_users_member ON segment_users (workspace_id, customer_id, project_id);

-- TinyCRM schema, version 1.
--
-- Every table is keyed by workspace_id first and every statement filters by
-- it, so the tables can be distributed on workspace_id (Citus) with no query
-- change; see docs/scaling.md.

CREATE TABLE workspaces (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL,
    -- Key of the HMAC that turns a suppressed email into the only trace kept.
    suppress_key  bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE admin_tokens (
    workspace_id  bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    token_hash    bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX admin_tokens_hash ON admin_tokens (token_hash);

CREATE TABLE projects (
    workspace_id  bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    slug          text NOT NULL,
    name          text NOT NULL,
    color         text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, slug)
);

CREATE TABLE project_keys (
    workspace_id  bigint NOT NULL,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    project_id    bigint NOT NULL,
    key_hash      bytea NOT NULL,
    -- Last characters of the secret, so a listing can tell keys apart.
    hint          text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- Set when a rotation retires the key; it stays valid until then.
    expires_at    timestamptz,
    revoked_at    timestamptz,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, project_id) REFERENCES projects (workspace_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX project_keys_hash ON project_keys (key_hash);
CREATE INDEX project_keys_project ON project_keys (workspace_id, project_id);

CREATE TABLE customers (
    workspace_id  bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    email         text NOT NULL,
    name          text NOT NULL DEFAULT '',
    -- Time of the call that set name, so an older call never overwrites it.
    name_at       timestamptz,
    first_seen    timestamptz NOT NULL,
    last_seen     timestamptz NOT NULL,
    project_count integer NOT NULL DEFAULT 0,
    mrr_total     numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, email)
);

CREATE TABLE memberships (
    workspace_id  bigint NOT NULL,
    customer_id   bigint NOT NULL,
    project_id    bigint NOT NULL,
    status        text NOT NULL DEFAULT '',
    params        jsonb NOT NULL DEFAULT '{}',
    first_seen    timestamptz NOT NULL,
    last_seen     timestamptz NOT NULL,
    state_at      timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, customer_id, project_id),
    FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, project_id) REFERENCES projects (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX memberships_project ON memberships (workspace_id, project_id, customer_id);

CREATE TABLE events (
    workspace_id  bigint NOT NULL,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    customer_id   bigint NOT NULL,
    project_id    bigint NOT NULL,
    at            timestamptz NOT NULL,
    -- joined | name | status | params
    kind          text NOT NULL,
    before        jsonb,
    after         jsonb,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, customer_id) REFERENCES customers (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, project_id) REFERENCES projects (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX events_customer ON events (workspace_id, customer_id, at DESC, id DESC);

CREATE TABLE message_ids (
    workspace_id  bigint NOT NULL,
    project_id    bigint NOT NULL,
    message_id    text NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, project_id, message_id)
);
CREATE INDEX message_ids_received ON message_ids (received_at);

CREATE TABLE suppressions (
    workspace_id  bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email_hash    bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, email_hash)
);

-- Identify counts per project and hour, for "last ingest" and "identifies in
-- the last 24 h" in the project list.
CREATE TABLE project_activity (
    workspace_id  bigint NOT NULL,
    project_id    bigint NOT NULL,
    hour          timestamptz NOT NULL,
    identifies    bigint NOT NULL DEFAULT 0,
    last_at       timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, project_id, hour),
    FOREIGN KEY (workspace_id, project_id) REFERENCES projects (workspace_id, id) ON DELETE CASCADE
);

-- tinycrm_mrr is the numeric params.mrr of one membership, else 0.
CREATE FUNCTION tinycrm_mrr(p jsonb) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(p -> 'mrr') = 'number' THEN (p ->> 'mrr')::numeric ELSE 0 END
$$;

-- tinycrm_email_hash is the keyed hash kept for a suppressed email: SHA-256
-- over the workspace's secret suppress_key and the normalized email, so the
-- address itself is not stored and cannot be recovered by hashing guesses
-- without the key.
CREATE FUNCTION tinycrm_email_hash(p_ws bigint, p_email text) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT sha256(w.suppress_key || '\x00'::bytea || convert_to(p_email, 'UTF8'))
    FROM workspaces w WHERE w.id = p_ws
$$;

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

-- tinycrm_identify applies one identify call (SPEC §2). It returns 'ok',
-- 'duplicate' (message_id already applied in this project) or 'suppressed'.
-- Callers pass a normalized email, a validated status ('' = not given), a
-- params object (NULL = not given) and the effective time p_at.
CREATE FUNCTION tinycrm_identify(
    p_ws bigint, p_project bigint, p_email text,
    p_name text, p_status text, p_params jsonb, p_at timestamptz, p_message_id text
) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_cid        bigint;
    v_name       text;
    v_name_at    timestamptz;
    v_status     text;
    v_params     jsonb;
    v_state_at   timestamptz;
    v_new_params jsonb;
    v_new_status text;
    v_drop       text[];
    v_dcount     integer := 0;
    v_dmrr       numeric := 0;
    v_before     jsonb;
    v_after      jsonb;
    v_fresh      boolean := true;
BEGIN
    IF p_message_id IS NOT NULL THEN
        INSERT INTO message_ids (workspace_id, project_id, message_id)
        VALUES (p_ws, p_project, p_message_id)
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            RETURN 'duplicate';
        END IF;
    END IF;

    IF EXISTS (SELECT 1 FROM suppressions
               WHERE workspace_id = p_ws AND email_hash = tinycrm_email_hash(p_ws, p_email)) THEN
        RETURN 'suppressed';
    END IF;

    INSERT INTO customers AS c (workspace_id, email, first_seen, last_seen)
    VALUES (p_ws, p_email, p_at, p_at)
    ON CONFLICT (workspace_id, email) DO UPDATE
        SET first_seen = LEAST(c.first_seen, EXCLUDED.first_seen),
            last_seen  = GREATEST(c.last_seen, EXCLUDED.last_seen)
    RETURNING c.id, c.name, c.name_at INTO v_cid, v_name, v_name_at;

    SELECT m.status, m.params, m.state_at INTO v_status, v_params, v_state_at
    FROM memberships m
    WHERE m.workspace_id = p_ws AND m.customer_id = v_cid AND m.project_id = p_project
    FOR UPDATE;

    IF NOT FOUND THEN
        v_new_params := COALESCE(p_params, '{}'::jsonb);
        SELECT COALESCE(array_agg(key), '{}') INTO v_drop FROM jsonb_each(v_new_params) WHERE value = 'null'::jsonb;
        v_new_params := v_new_params - v_drop;
        INSERT INTO memberships (workspace_id, customer_id, project_id, status, params, first_seen, last_seen, state_at)
        VALUES (p_ws, v_cid, p_project, p_status, v_new_params, p_at, p_at, p_at);
        INSERT INTO events (workspace_id, customer_id, project_id, at, kind, before, after)
        VALUES (p_ws, v_cid, p_project, p_at, 'joined', NULL,
                jsonb_build_object('status', p_status, 'params', v_new_params));
        v_dcount := 1;
        v_dmrr := tinycrm_mrr(v_new_params);
    ELSE
        UPDATE memberships m
        SET first_seen = LEAST(m.first_seen, p_at), last_seen = GREATEST(m.last_seen, p_at)
        WHERE m.workspace_id = p_ws AND m.customer_id = v_cid AND m.project_id = p_project;

        v_fresh := p_at >= v_state_at;
        IF v_fresh THEN
            v_new_status := CASE WHEN p_status <> '' THEN p_status ELSE v_status END;
            v_new_params := v_params;
            IF p_params IS NOT NULL THEN
                SELECT COALESCE(array_agg(key), '{}') INTO v_drop FROM jsonb_each(p_params) WHERE value = 'null'::jsonb;
                v_new_params := (v_params || p_params) - v_drop;
            END IF;
            UPDATE memberships m
            SET status = v_new_status, params = v_new_params, state_at = p_at
            WHERE m.workspace_id = p_ws AND m.customer_id = v_cid AND m.project_id = p_project;
            IF v_new_status IS DISTINCT FROM v_status THEN
                INSERT INTO events (workspace_id, customer_id, project_id, at, kind, before, after)
                VALUES (p_ws, v_cid, p_project, p_at, 'status', to_jsonb(v_status), to_jsonb(v_new_status));
            END IF;
            IF v_new_params IS DISTINCT FROM v_params THEN
                -- Keep only the keys that changed, on either side.
                SELECT jsonb_object_agg(k, v_params -> k) FILTER (WHERE v_params ? k),
                       jsonb_object_agg(k, v_new_params -> k) FILTER (WHERE v_new_params ? k)
                INTO v_before, v_after
                FROM (SELECT key AS k FROM jsonb_object_keys(v_params || v_new_params) AS t(key)) keys
                WHERE (v_params -> k) IS DISTINCT FROM (v_new_params -> k);
                INSERT INTO events (workspace_id, customer_id, project_id, at, kind, before, after)
                VALUES (p_ws, v_cid, p_project, p_at, 'params',
                        COALESCE(v_before, '{}'::jsonb), COALESCE(v_after, '{}'::jsonb));
                v_dmrr := tinycrm_mrr(v_new_params) - tinycrm_mrr(v_params);
            END IF;
        END IF;
    END IF;

    IF v_fresh AND p_name <> '' AND p_name IS DISTINCT FROM v_name AND (v_name_at IS NULL OR p_at >= v_name_at) THEN
        INSERT INTO events (workspace_id, customer_id, project_id, at, kind, before, after)
        VALUES (p_ws, v_cid, p_project, p_at, 'name', to_jsonb(NULLIF(v_name, '')), to_jsonb(p_name));
        UPDATE customers SET name = p_name, name_at = p_at,
               project_count = project_count + v_dcount, mrr_total = mrr_total + v_dmrr
        WHERE workspace_id = p_ws AND id = v_cid;
    ELSIF v_fresh AND p_name <> '' AND p_name = v_name AND (v_name_at IS NULL OR p_at > v_name_at) THEN
        UPDATE customers SET name_at = p_at,
               project_count = project_count + v_dcount, mrr_total = mrr_total + v_dmrr
        WHERE workspace_id = p_ws AND id = v_cid;
    ELSIF v_dcount <> 0 OR v_dmrr <> 0 THEN
        UPDATE customers SET project_count = project_count + v_dcount, mrr_total = mrr_total + v_dmrr
        WHERE workspace_id = p_ws AND id = v_cid;
    END IF;

    RETURN 'ok';
END
$$;

-- tinycrm_ping moves last_seen of an existing membership; it creates nothing.
-- Like tinycrm_identify it locks the customer row before the membership row,
-- so the two never deadlock each other.
CREATE FUNCTION tinycrm_ping(p_ws bigint, p_project bigint, p_email text, p_at timestamptz)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_cid bigint;
BEGIN
    UPDATE customers c SET last_seen = GREATEST(c.last_seen, p_at)
    WHERE c.workspace_id = p_ws AND c.email = p_email
      AND EXISTS (SELECT 1 FROM memberships m
                  WHERE m.workspace_id = p_ws AND m.customer_id = c.id AND m.project_id = p_project)
    RETURNING c.id INTO v_cid;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    UPDATE memberships m SET last_seen = GREATEST(m.last_seen, p_at)
    WHERE m.workspace_id = p_ws AND m.customer_id = v_cid AND m.project_id = p_project;
END
$$;

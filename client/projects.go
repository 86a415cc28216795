package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// DefaultGrace is how long RotateKey keeps the old keys valid when the CLI
// is not told otherwise (SPEC §2).
const DefaultGrace = 24 * time.Hour

// Project is one product of the portfolio, with the counters the project
// list shows.
type Project struct {
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	Color     string    `json:"color"` // hex, such as "#e69f00"
	CreatedAt time.Time `json:"created_at"`
	// Customers is the number of members.
	Customers int64 `json:"customers"`
	// LastIngest is the time of the newest identify, nil if none yet.
	LastIngest *time.Time `json:"last_ingest"`
	// Identifies24h counts identify calls in about the last 24 hours.
	Identifies24h int64 `json:"identifies_24h"`
}

// NewProject is what CreateProject sends. Only Name is required; the
// server derives the slug from it and picks a colour from its palette.
type NewProject struct {
	Name  string `json:"name"`
	Slug  string `json:"slug,omitempty"`
	Color string `json:"color,omitempty"`
}

// ProjectUpdate changes a project's name and colour; empty fields are left
// as they are. A slug never changes.
type ProjectUpdate struct {
	Name  string `json:"name,omitempty"`
	Color string `json:"color,omitempty"`
}

// CreatedProject is a new project with its first project key, which the
// server shows this once.
type CreatedProject struct {
	Project
	Key string `json:"key"`
}

// Key describes a project key. The secret is known only when the key was
// just made.
type Key struct {
	ID        int64      `json:"id"`
	Hint      string     `json:"hint"` // the key's start, to recognise it
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at"`
	// Secret is the key itself (tcrm_pk_…), set only by CreateKey and
	// RotateKey.
	Secret string `json:"key,omitempty"`
}

// projectPath returns the escaped path of a project, plus suffix.
func projectPath(slug, suffix string) string {
	return "/v1/projects/" + url.PathEscape(slug) + suffix
}

// Projects lists the workspace's projects in creation order.
func (c *Client) Projects(ctx context.Context) ([]Project, error) {
	var r struct {
		Projects []Project `json:"projects"`
	}
	if err := c.getJSON(ctx, "list projects", "/v1/projects", nil, &r); err != nil {
		return nil, err
	}
	return r.Projects, nil
}

// Project returns one project by slug.
func (c *Client) Project(ctx context.Context, slug string) (Project, error) {
	var p Project
	err := c.getJSON(ctx, "get project "+slug, projectPath(slug, ""), nil, &p)
	return p, err
}

// CreateProject creates a project and its first key. It is not retried
// once the request may have reached the server (see ErrUnknownOutcome); a
// taken slug is a 409 (IsConflict).
func (c *Client) CreateProject(ctx context.Context, np NewProject) (CreatedProject, error) {
	op := "create project " + np.Name
	body, err := marshal(op, np)
	if err != nil {
		return CreatedProject{}, err
	}
	var p CreatedProject
	err = c.doJSON(ctx, call{op: op, method: http.MethodPost, path: "/v1/projects", body: body, policy: once}, &p)
	return p, err
}

// UpdateProject renames or recolours a project and returns it as it now
// is.
func (c *Client) UpdateProject(ctx context.Context, slug string, u ProjectUpdate) (Project, error) {
	return c.patchProject(ctx, "update project "+slug, slug, u)
}

// patchProject sends v as a PATCH of the project.
func (c *Client) patchProject(ctx context.Context, op, slug string, v any) (Project, error) {
	body, err := marshal(op, v)
	if err != nil {
		return Project{}, err
	}
	var p Project
	err = c.doJSON(ctx, call{op: op, method: http.MethodPatch, path: projectPath(slug, ""), body: body}, &p)
	return p, err
}

// RenameProject gives a project a new name; its slug stays. The name is
// always sent, so an empty one is refused by the server rather than taken
// for no change (as ProjectUpdate's empty fields are).
func (c *Client) RenameProject(ctx context.Context, slug, name string) (Project, error) {
	return c.patchProject(ctx, "rename project "+slug, slug, struct {
		Name string `json:"name"`
	}{name})
}

// DeleteProject deletes a project with its keys, memberships and events;
// customers left in no project are deleted too.
func (c *Client) DeleteProject(ctx context.Context, slug string) error {
	return c.doJSON(ctx, call{op: "delete project " + slug, method: http.MethodDelete,
		path: projectPath(slug, ""), goneOK: true}, nil)
}

// Keys lists a project's keys, newest first, revoked and expired ones
// included.
func (c *Client) Keys(ctx context.Context, slug string) ([]Key, error) {
	var r struct {
		Keys []Key `json:"keys"`
	}
	if err := c.getJSON(ctx, "list keys of "+slug, projectPath(slug, "/keys"), nil, &r); err != nil {
		return nil, err
	}
	return r.Keys, nil
}

// CreateKey adds a key to a project; the existing keys stay valid. The
// returned Key holds the Secret. Not retried once it may have reached the
// server (see ErrUnknownOutcome).
func (c *Client) CreateKey(ctx context.Context, slug string) (Key, error) {
	var k Key
	err := c.doJSON(ctx, call{op: "create key for " + slug, method: http.MethodPost,
		path: projectPath(slug, "/keys"), policy: once}, &k)
	return k, err
}

// RotateKey makes a new key for a project and lets every older key expire
// after grace (at most 7 days; 0 ends them now; DefaultGrace is the usual
// choice). The returned Key holds the Secret. Not retried once it may have
// reached the server (see ErrUnknownOutcome).
func (c *Client) RotateKey(ctx context.Context, slug string, grace time.Duration) (Key, error) {
	var k Key
	err := c.doJSON(ctx, call{op: "rotate keys of " + slug, method: http.MethodPost,
		path: projectPath(slug, "/keys/rotate"), query: url.Values{"grace": {grace.String()}}, policy: once}, &k)
	return k, err
}

// RevokeKey ends one key of a project at once. Revoking a revoked key is
// not an error.
func (c *Client) RevokeKey(ctx context.Context, slug string, id int64) error {
	return c.doJSON(ctx, call{op: "revoke key " + strconv.FormatInt(id, 10) + " of " + slug,
		method: http.MethodDelete, path: projectPath(slug, "/keys/"+strconv.FormatInt(id, 10))}, nil)
}

// Import sends identify calls on a project's behalf with an admin token,
// like Batch does with a project key (same splitting, message ids and
// result).
func (c *Client) Import(ctx context.Context, slug string, items []Identify) (BatchResult, error) {
	return c.batch(ctx, "import into "+slug, projectPath(slug, "/batch"), nil, items)
}

// CheckImport checks identify calls as Import would, on the server and by
// the same rules, but stores nothing: Accepted counts the items that would
// be sent on, Rejected the ones that would be refused, and Duplicates and
// Suppressed stay 0 (they depend on what is stored when the import runs).
func (c *Client) CheckImport(ctx context.Context, slug string, items []Identify) (BatchResult, error) {
	return c.batch(ctx, "check import into "+slug, projectPath(slug, "/batch"), url.Values{"dry_run": {"true"}}, items)
}

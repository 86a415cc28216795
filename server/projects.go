package server

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"tinycrm.dev/tinycrm/filter"
	"tinycrm.dev/tinycrm/secret"
	"tinycrm.dev/tinycrm/store"
)

const (
	paramGrace     = "grace"
	maxProjectName = 64
	defaultGrace   = 24 * time.Hour
	maxGrace       = 7 * 24 * time.Hour
)

// isColor reports whether s is a hex colour, #rrggbb in either case.
func isColor(s string) bool {
	if len(s) != 7 || s[0] != '#' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// palette holds distinguishable badge colours (Okabe–Ito plus Tableau
// hues), readable on dark and light terminals; projects take them in turn.
var palette = [...]string{
	"#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
	"#4E79A7", "#F28E2B", "#59A14F", "#B07AA1", "#76B7B2", "#EDC948", "#FF9DA7",
}

// projectReply is a project, plus its new key when one was just made.
type projectReply struct {
	store.Project
	Key string `json:"key,omitempty"`
}

// keyReply is a key, plus its secret when it was just made.
type keyReply struct {
	store.Key
	Secret string `json:"key,omitempty"`
}

func (s *Server) listProjects(w http.ResponseWriter, r *http.Request) error {
	// The counts are at most a few seconds old (countcache.go).
	ps, err := s.counts.Projects(r.Context(), workspaceFrom(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"projects": ps})
	return nil
}

func (s *Server) getProject(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	slug, err := projectSlug(r)
	if err != nil {
		return err
	}
	// Answered from the cached list when the project is in it; otherwise
	// (a missing project, or one created by another daemon) from the store.
	ps, err := s.counts.Projects(ctx, workspaceFrom(ctx))
	if err != nil {
		return err
	}
	for _, p := range ps {
		if p.Slug == slug {
			writeJSON(w, http.StatusOK, p)
			return nil
		}
	}
	s.activity.flush()
	p, err := s.store.GetProject(ctx, workspaceFrom(ctx), slug)
	if err != nil {
		return projectErr(err, slug)
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

type projectRequest struct {
	Name  *string `json:"name"`
	Slug  *string `json:"slug"`
	Color *string `json:"color"`
}

func (s *Server) createProject(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	ws := workspaceFrom(ctx)
	body, err := readBody(w, r, maxIdentifyBody)
	if err != nil {
		return err
	}
	var req projectRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	np := store.NewProject{}
	if req.Name == nil {
		return badField("name", "is required")
	}
	if np.Name, err = projectName(*req.Name); err != nil {
		return err
	}
	if req.Slug != nil {
		if !filter.IsSlug(*req.Slug) {
			return badField("slug", "must be 1-40 characters of a-z, 0-9 and -; got %q", truncate(*req.Slug))
		}
		// SPEC §2's syntax allows it, but a command line would take
		// --project -lead for a flag; a derived slug never starts so.
		if strings.HasPrefix(*req.Slug, "-") {
			return badField("slug", "must start with a-z or 0-9, so that it cannot be taken for a command-line flag; got %q", truncate(*req.Slug))
		}
		np.Slug = *req.Slug
	} else if np.Slug = slugify(np.Name); np.Slug == "" {
		return badField("name", "has no letters or digits to make a slug from; pass a slug")
	}
	if req.Color != nil {
		if !isColor(*req.Color) {
			return badField("color", "must be a hex colour like #3b82f6; got %q", truncate(*req.Color))
		}
		np.Color = strings.ToLower(*req.Color)
	} else {
		existing, err := s.store.ListProjects(ctx, ws)
		if err != nil {
			return err
		}
		np.Color = strings.ToLower(palette[len(existing)%len(palette)])
	}
	raw, nk, err := newKey()
	if err != nil {
		return err
	}
	defer s.counts.invalidate(ws)
	p, _, err := s.store.CreateProject(ctx, ws, np, nk)
	if errors.Is(err, store.ErrConflict) {
		return &Problem{Status: http.StatusConflict, Field: "slug",
			Detail: fmt.Sprintf("a project with slug %q already exists; pass another slug", np.Slug)}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, projectReply{Project: p, Key: raw})
	return nil
}

func (s *Server) updateProject(w http.ResponseWriter, r *http.Request) error {
	slug, err := projectSlug(r)
	if err != nil {
		return err
	}
	body, err := readBody(w, r, maxIdentifyBody)
	if err != nil {
		return err
	}
	var req projectRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	if req.Slug != nil {
		return badField("slug", "cannot be changed: apps and scripts refer to it")
	}
	var patch store.ProjectPatch
	if req.Name != nil {
		name, err := projectName(*req.Name)
		if err != nil {
			return err
		}
		patch.Name = &name
	}
	if req.Color != nil {
		if !isColor(*req.Color) {
			return badField("color", "must be a hex colour like #3b82f6; got %q", truncate(*req.Color))
		}
		c := strings.ToLower(*req.Color)
		patch.Color = &c
	}
	defer s.counts.invalidate(workspaceFrom(r.Context()))
	p, err := s.store.UpdateProject(r.Context(), workspaceFrom(r.Context()), slug, patch)
	if err != nil {
		return projectErr(err, slug)
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) deleteProject(w http.ResponseWriter, r *http.Request) error {
	slug, err := projectSlug(r)
	if err != nil {
		return err
	}
	defer s.counts.invalidate(workspaceFrom(r.Context()))
	if err := s.store.DeleteProject(r.Context(), workspaceFrom(r.Context()), slug); err != nil {
		return projectErr(err, slug)
	}
	s.keys.clear()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) error {
	slug, err := projectSlug(r)
	if err != nil {
		return err
	}
	keys, err := s.store.ListKeys(r.Context(), workspaceFrom(r.Context()), slug)
	if err != nil {
		return projectErr(err, slug)
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
	return nil
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request) error {
	slug, err := projectSlug(r)
	if err != nil {
		return err
	}
	if err := noBody(w, r); err != nil {
		return err
	}
	raw, nk, err := newKey()
	if err != nil {
		return err
	}
	k, err := s.store.CreateKey(r.Context(), workspaceFrom(r.Context()), slug, nk)
	if err != nil {
		return projectErr(err, slug)
	}
	writeJSON(w, http.StatusCreated, keyReply{Key: k, Secret: raw})
	return nil
}

func (s *Server) rotateKey(w http.ResponseWriter, r *http.Request) error {
	slug, err := projectSlug(r)
	if err != nil {
		return err
	}
	if err := noBody(w, r); err != nil {
		return err
	}
	grace := defaultGrace
	if vs := r.URL.Query()[paramGrace]; len(vs) > 1 {
		return badField(paramGrace, "given more than once")
	} else if len(vs) == 1 && vs[0] != "" {
		if grace, err = parseGrace(vs[0]); err != nil {
			return err
		}
	}
	raw, nk, err := newKey()
	if err != nil {
		return err
	}
	k, err := s.store.RotateKey(r.Context(), workspaceFrom(r.Context()), slug, nk, grace)
	if err != nil {
		return projectErr(err, slug)
	}
	s.keys.clear()
	writeJSON(w, http.StatusCreated, keyReply{Key: k, Secret: raw})
	return nil
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) error {
	slug, err := projectSlug(r)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return badField("id", "must be a key id as shown by `tinycrm projects keys list`; got %q", truncate(r.PathValue("id")))
	}
	if err := s.store.RevokeKey(r.Context(), workspaceFrom(r.Context()), slug, id); errors.Is(err, store.ErrNotFound) {
		return problemf(http.StatusNotFound, "no key %d in a project %q; `tinycrm projects keys list %s` shows the ids", id, slug, slug)
	} else if err != nil {
		return err
	}
	s.keys.clear()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// parseGrace reads rotate's grace period: an age as the filters take it
// (24h, 3d, 1w), or zero (0, 0s, 0d) to end the old keys at once.
func parseGrace(v string) (time.Duration, error) {
	if v[0] == '0' && strings.Trim(v, "0smhdw") == "" {
		return 0, nil
	}
	d, err := filter.ParseAge(v)
	if err != nil || d > maxGrace {
		return 0, badField(paramGrace, "must be a duration from 0s to 7d, like 24h or 3d; got %q", truncate(v))
	}
	return d, nil
}

// projectSlug is the {slug} of a project route. One that no project can
// have (not [a-z0-9-]{1,40}: bytes that are not UTF-8, say) is a 404
// without a database look-up.
func projectSlug(r *http.Request) (string, error) {
	slug := r.PathValue("slug")
	if !filter.IsSlug(slug) {
		return "", noProject(slug)
	}
	return slug, nil
}

func noProject(slug string) *Problem {
	return problemf(http.StatusNotFound, "no project with slug %q; `tinycrm projects list` shows them", truncate(slug))
}

// projectErr turns the store's not-found for a project into noProject.
func projectErr(err error, slug string) error {
	if errors.Is(err, store.ErrNotFound) {
		return noProject(slug)
	}
	return err
}

// noBody refuses a body on an endpoint that takes none, so that a setting
// sent in the body (rotate's grace, say) is not silently ignored.
func noBody(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r, maxIdentifyBody)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) > 0 {
		return badField("body", "this endpoint takes no body; its settings are query parameters (see docs/api.md)")
	}
	return nil
}

func newKey() (string, store.NewKey, error) {
	raw, err := secret.New(secret.ProjectKey)
	if err != nil {
		return "", store.NewKey{}, fmt.Errorf("new project key: %w", err)
	}
	return raw, store.NewKey{Hash: secret.Hash(raw), Hint: secret.Hint(raw)}, nil
}

func projectName(s string) (string, error) {
	name, err := cleanText("name", s, 4*maxProjectName)
	if err != nil {
		return "", err
	}
	if n := len([]rune(name)); n < 1 || n > maxProjectName {
		return "", badField("name", "must be 1-%d characters; got %d", maxProjectName, n)
	}
	return name, nil
}

// slugify derives a slug from a project name: "App A" → "app-a",
// "Bücher Shop" → "bucher-shop".
func slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(strings.ToLower(name)) {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
			dash = false
		case unicode.Is(unicode.Mn, r):
			// combining accent stripped by NFKD
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	slug := strings.Trim(b.String(), "-")
	if len(slug) > 40 {
		slug = strings.Trim(slug[:40], "-")
	}
	return slug
}

package client_test

import (
	"errors"
	"testing"
	"time"

	"tinycrm.dev/tinycrm/client"
)

func TestProjectLifecycle(t *testing.T) {
	t.Parallel()
	e := setup(t)
	a := e.admin

	p, err := a.CreateProject(ctx(t), client.NewProject{Name: "Link in Bio", Color: "#3B82F6"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Slug != "link-in-bio" || p.Name != "Link in Bio" || p.Color != "#3b82f6" || p.Key == "" || p.LastIngest != nil {
		t.Errorf("created %+v", p)
	}
	if _, err := a.CreateProject(ctx(t), client.NewProject{Name: "Other", Slug: "link-in-bio"}); !client.IsConflict(err) {
		t.Errorf("taken slug: %v", err)
	}
	if _, err := e.client(p.Key).Identify(ctx(t), client.Identify{Email: "a@example.com"}); err != nil {
		t.Fatalf("first key: %v", err)
	}

	ps, err := a.Projects(ctx(t))
	if err != nil || len(ps) != 1 {
		t.Fatalf("projects = %+v, %v", ps, err)
	}
	if got := ps[0]; got.Customers != 1 || got.LastIngest == nil || got.Identifies24h != 1 || got.CreatedAt.IsZero() {
		t.Errorf("listed %+v", got)
	}
	renamed, err := a.RenameProject(ctx(t), p.Slug, "Bio Links")
	if err != nil || renamed.Name != "Bio Links" || renamed.Slug != p.Slug || renamed.Color != "#3b82f6" {
		t.Errorf("rename: %+v, %v", renamed, err)
	}
	if got, err := a.Project(ctx(t), p.Slug); err != nil || got.Name != "Bio Links" {
		t.Errorf("get: %+v, %v", got, err)
	}
	_, err = a.UpdateProject(ctx(t), p.Slug, client.ProjectUpdate{Color: "blue"})
	if ae := (*client.APIError)(nil); !errors.As(err, &ae) || ae.Status != 400 || ae.Field != "color" {
		t.Errorf("bad colour: %v", err)
	}

	k2, err := a.CreateKey(ctx(t), p.Slug)
	if err != nil || k2.Secret == "" || k2.ID == 0 {
		t.Fatalf("create key: %+v, %v", k2, err)
	}
	keys, err := a.Keys(ctx(t), p.Slug)
	if err != nil || len(keys) != 2 || keys[0].ID != k2.ID || keys[0].Secret != "" {
		t.Fatalf("keys = %+v, %v", keys, err)
	}

	// Rotating with no grace ends both older keys now.
	k3, err := a.RotateKey(ctx(t), p.Slug, 0)
	if err != nil || k3.Secret == "" {
		t.Fatalf("rotate: %+v, %v", k3, err)
	}
	for _, old := range []string{p.Key, k2.Secret} {
		if _, err := e.client(old).Identify(ctx(t), client.Identify{Email: "a@example.com"}); !client.IsUnauthorized(err) {
			t.Errorf("old key after rotation: %v", err)
		}
	}
	k4, err := a.RotateKey(ctx(t), p.Slug, client.DefaultGrace)
	if err != nil {
		t.Fatal(err)
	}
	keys, err = a.Keys(ctx(t), p.Slug)
	if err != nil || len(keys) != 4 || keys[1].ExpiresAt == nil || time.Until(*keys[1].ExpiresAt) < 23*time.Hour {
		t.Fatalf("keys after rotating with grace = %+v, %v", keys, err)
	}
	if _, err := e.client(k3.Secret).Identify(ctx(t), client.Identify{Email: "a@example.com"}); err != nil {
		t.Errorf("key in its grace period: %v", err)
	}

	if err := a.RevokeKey(ctx(t), p.Slug, k4.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client(k4.Secret).Identify(ctx(t), client.Identify{Email: "a@example.com"}); !client.IsUnauthorized(err) {
		t.Errorf("revoked key: %v", err)
	}
	if err := a.RevokeKey(ctx(t), p.Slug, 999999); !client.IsNotFound(err) {
		t.Errorf("revoke a missing key: %v", err)
	}

	if err := a.DeleteProject(ctx(t), p.Slug); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Project(ctx(t), p.Slug); !client.IsNotFound(err) {
		t.Errorf("deleted project: %v", err)
	}
	// Nothing was lost in transit, so a second delete is an honest 404.
	if err := a.DeleteProject(ctx(t), p.Slug); !client.IsNotFound(err) {
		t.Errorf("second delete: %v", err)
	}
	if _, err := a.Customer(ctx(t), "a@example.com"); !client.IsNotFound(err) {
		t.Errorf("customer of the deleted project only: %v", err)
	}
}

package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"tinycrm.dev/tinycrm/filter"
	"tinycrm.dev/tinycrm/store"
)

// orphans counts rows that belong to a customer or project that no longer
// exists. The tables ingest writes have no foreign keys (migration 006), so
// this is what forget and project delete must keep at zero themselves.
var orphans = map[string]string{
	"memberships without customer": `SELECT count(*) FROM memberships m
		WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.workspace_id = m.workspace_id AND c.id = m.customer_id)`,
	"memberships without project": `SELECT count(*) FROM memberships m
		WHERE NOT EXISTS (SELECT 1 FROM projects p WHERE p.workspace_id = m.workspace_id AND p.id = m.project_id)`,
	"events without customer": `SELECT count(*) FROM events e
		WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.workspace_id = e.workspace_id AND c.id = e.customer_id)`,
	"events without membership": `SELECT count(*) FROM events e
		WHERE NOT EXISTS (SELECT 1 FROM memberships m
		                  WHERE m.workspace_id = e.workspace_id AND m.customer_id = e.customer_id AND m.project_id = e.project_id)`,
	"search rows without customer": `SELECT count(*) FROM customer_search s
		WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.workspace_id = s.workspace_id AND c.id = s.customer_id)`,
	"customers without search row": `SELECT count(*) FROM customers c
		WHERE NOT EXISTS (SELECT 1 FROM customer_search s WHERE s.workspace_id = c.workspace_id AND s.customer_id = c.id)`,
	"customers without membership": `SELECT count(*) FROM customers c
		WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.workspace_id = c.workspace_id AND m.customer_id = c.id)`,
}

func assertNoOrphans(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	for what, q := range orphans {
		var n int
		if err := pool.QueryRow(context.Background(), q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if n != 0 {
			t.Errorf("%d %s", n, what)
		}
	}
}

func count(t *testing.T, pool *pgxpool.Pool, table string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDeletesLeaveNoOrphans(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "a", "b", "c")
	ctx := context.Background()
	// Everyone is in a and b with a status change and a params change (so
	// with events in both); some are in c too, and has a Segment user id.
	for _, who := range []string{"gone", "unlinked", "last", "stays", "other"} {
		email := who + "@x.io"
		f.identify([4]string{"a", email, "free", `{"plan":"hobby"}`}, [4]string{"a", email, "paid", `{"plan":"pro","mrr":9}`},
			[4]string{"b", email, "trialing", `{"seats":1}`})
	}
	f.identify([4]string{"c", "stays@x.io", "paid", `{"mrr":5}`}, [4]string{"c", "other@x.io", "free", ""})
	if err := f.st.RememberSegmentUsers(ctx, []store.SegmentUser{
		{WorkspaceID: f.ws, ProjectID: f.ids["a"], UserID: "u-gone", Email: "gone@x.io"},
		{WorkspaceID: f.ws, ProjectID: f.ids["b"], UserID: "u-unlinked", Email: "unlinked@x.io"},
		{WorkspaceID: f.ws, ProjectID: f.ids["b"], UserID: "u-stays", Email: "stays@x.io"},
	}); err != nil {
		t.Fatal(err)
	}
	assertNoOrphans(t, f.pool)

	// Everywhere; from one project with another left; from the last
	// project left (the customer goes); then a whole project.
	steps := []struct {
		who string
		o   store.ForgetOptions
	}{{"gone@x.io", store.ForgetOptions{}}, {"unlinked@x.io", store.ForgetOptions{Project: "b"}},
		{"last@x.io", store.ForgetOptions{Project: "a"}}, {"last@x.io", store.ForgetOptions{Project: "b"}}}
	for _, s := range steps {
		if _, err := f.st.ForgetCustomer(ctx, f.ws, s.who, s.o); err != nil {
			t.Fatalf("forget %s %+v: %v", s.who, s.o, err)
		}
		assertNoOrphans(t, f.pool)
	}
	if err := f.st.DeleteProject(ctx, f.ws, "b"); err != nil {
		t.Fatal(err)
	}
	assertNoOrphans(t, f.pool)
	if err := f.st.DeleteProject(ctx, f.ws, "a"); err != nil {
		t.Fatal(err)
	}
	assertNoOrphans(t, f.pool)
	// Only stays and other are left, in c alone; unlinked went with a.
	got, err := f.emails(filter.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[other stays]" {
		t.Fatalf("customers left: %v", got)
	}
	if n := count(t, f.pool, "segment_users"); n != 0 {
		t.Fatalf("%d segment users left: their memberships are gone", n)
	}
	if n := count(t, f.pool, "memberships"); n != 2 {
		t.Fatalf("%d memberships left, want 2", n)
	}
}

// TestIngestRacesDeleteProject deletes a project while batches write to it
// and to another one. Afterwards nothing of the deleted project is left,
// and a write that still arrives for it (its key was cached) fails as not
// found without recording its message id.
func TestIngestRacesDeleteProject(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "keep", "doomed")
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 10)
	var seq sync.Mutex
	n := 0
	for g := range 3 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var batch []store.Write
				for j := range 6 {
					seq.Lock()
					n++
					id := n
					seq.Unlock()
					project := f.ids[[]string{"keep", "doomed"}[(g+j)%2]]
					batch = append(batch, store.Write{WorkspaceID: f.ws, ProjectID: project,
						Email: fmt.Sprintf("p%d@x.io", (i*6+j)%40), Status: []string{"free", "paid"}[i%2],
						Params: json.RawMessage(fmt.Sprintf(`{"mrr":%d}`, i%5)), At: time.Now(), MessageID: fmt.Sprint("m", id)})
				}
				res, err := f.st.ApplyWrites(ctx, batch)
				if err != nil {
					errs <- err
					return
				}
				for k, r := range res {
					deleted := batch[k].ProjectID == f.ids["doomed"] && errors.Is(r.Err, store.ErrNotFound)
					if r.Outcome == store.Failed && !deleted {
						errs <- r.Err
						return
					}
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	if err := f.st.DeleteProject(ctx, f.ws, "doomed"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assertNoOrphans(t, f.pool)

	late := store.Write{WorkspaceID: f.ws, ProjectID: f.ids["doomed"], Email: "late@x.io", At: time.Now(), MessageID: "late-1"}
	alive := store.Write{WorkspaceID: f.ws, ProjectID: f.ids["keep"], Email: "late@x.io", At: time.Now(), MessageID: "late-2"}
	res, err := f.st.ApplyWrites(ctx, []store.Write{late, alive})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Outcome != store.Failed || !errors.Is(res[0].Err, store.ErrNotFound) || res[1].Outcome != store.Applied {
		t.Fatalf("late writes: %+v", res)
	}
	var recorded int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM message_ids WHERE message_id = 'late-1'`).Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	if recorded != 0 {
		t.Fatal("the failed write's message id was recorded: its retry would be taken for a duplicate")
	}
	assertNoOrphans(t, f.pool)
}

package pgtest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"tinycrm.dev/tinycrm/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestNewDBHasSchemaAndIsIsolated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := pgtest.NewPool(t), pgtest.NewPool(t)

	for _, pool := range []interface {
		QueryRow(context.Context, string, ...any) pgx.Row
	}{a, b} {
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM customers").Scan(&n); err != nil {
			t.Fatalf("customers table missing: %v", err)
		}
		if n != 0 {
			t.Errorf("fresh database has %d customers, want 0", n)
		}
	}
	if _, err := a.Exec(ctx, "CREATE TABLE scratch (v int); INSERT INTO scratch VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	var exists bool
	if err := b.QueryRow(ctx, "SELECT to_regclass('scratch') IS NOT NULL").Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Error("a table created in one test database is visible in another")
	}
	var dbA, dbB string
	a.QueryRow(ctx, "SELECT current_database()").Scan(&dbA)
	b.QueryRow(ctx, "SELECT current_database()").Scan(&dbB)
	if dbA == dbB {
		t.Errorf("both pools use database %s", dbA)
	}
}

func TestNewDBParallel(t *testing.T) {
	for i := range 8 {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			conn, err := pgx.Connect(context.Background(), pgtest.NewDB(t))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(context.Background(), "INSERT INTO workspaces (name, suppress_key) VALUES ($1, $2)", fmt.Sprint("ws", i), []byte{0}); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM workspaces").Scan(&n); err != nil || n != 1 {
				t.Errorf("workspaces = %d, %v; want 1 (databases not isolated)", n, err)
			}
		})
	}
}

func TestNewCluster(t *testing.T) {
	t.Parallel()
	c := pgtest.NewCluster(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.ConnString("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE t (v int); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if err := c.Restart(ctx, "immediate"); err != nil {
		t.Fatal(err)
	}
	conn, err = pgx.Connect(ctx, c.ConnString("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Errorf("after an immediate restart: %d rows, %v; want 1", n, err)
	}
}

func TestNewEmptyDB(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.NewEmptyDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('customers') IS NOT NULL").Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Error("NewEmptyDB has the schema; want an empty database")
	}
}

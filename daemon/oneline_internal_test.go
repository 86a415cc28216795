package daemon

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestConnectErrorsFitOneLine: pgx puts one line per address tried into a
// connect error, often twice; the daemon prints it as one line and keeps
// the error underneath.
func TestConnectErrorsFitOneLine(t *testing.T) {
	t.Parallel()
	_, err := pgx.Connect(context.Background(), "postgres://x@127.0.0.1:1/db?connect_timeout=5")
	if err == nil {
		t.Fatal("connected to port 1")
	}
	got := oneLine(err)
	if msg := got.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "connection refused") ||
		strings.Count(msg, "connection refused") != 1 {
		t.Fatalf("folded: %q (from %q)", msg, err.Error())
	}
	var ce *pgconn.ConnectError
	if !errors.As(got, &ce) {
		t.Fatalf("folded error lost its *pgconn.ConnectError: %#v", got)
	}
	plain := errors.New("one line")
	if oneLine(plain) != plain {
		t.Fatal("a one-line error must come back as is")
	}
}

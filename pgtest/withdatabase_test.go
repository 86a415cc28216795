package pgtest

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	for _, conn := range []string{
		"postgres://u:p@localhost:5433/postgres?sslmode=disable",
		"postgresql://u@/postgres?host=%2Ftmp%2Fsock&dbname=other",
		"host=/tmp/sock user=u dbname=postgres",
		"host=localhost user=u",
	} {
		got := withDatabase(conn, "tcrm_test_1_ab_2")
		cfg, err := pgx.ParseConfig(got)
		if err != nil {
			t.Errorf("withDatabase(%q) = %q: %v", conn, got, err)
			continue
		}
		orig, _ := pgx.ParseConfig(conn)
		if cfg.Database != "tcrm_test_1_ab_2" || cfg.User != orig.User || cfg.Host != orig.Host || cfg.Port != orig.Port {
			t.Errorf("withDatabase(%q) = %q: database %q user %q host %q port %d", conn, got, cfg.Database, cfg.User, cfg.Host, cfg.Port)
		}
	}
}

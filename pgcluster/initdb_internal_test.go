package pgcluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// An LC_CTYPE the system does not have is told apart from other initdb
// failures, so initdb can fall back to C, and it leaves no data dir.
func TestInitdbReportsAMissingLocale(t *testing.T) {
	dir, err := os.MkdirTemp("", "pgcluster-locale-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := newCluster(Options{Dir: filepath.Join(dir, "pg")})
	if err != nil {
		t.Fatal(err)
	}
	if c.bin, err = findBinaries(ctx, c.binDirs(nil), 0); err != nil {
		t.Fatal(err)
	}
	if err := c.prepareDir(); err != nil {
		t.Fatal(err)
	}
	err = c.initdbWith(ctx, "xx_YY.UTF-8")
	var le *localeError
	if !errors.As(err, &le) {
		t.Fatalf("initdb with a missing locale: %v, want a *localeError", err)
	}
	if _, err := os.Stat(c.dataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data dir after a failed initdb: %v", err)
	}
}

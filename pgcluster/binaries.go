package pgcluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// binaries is one PostgreSQL installation's bin directory.
type binaries struct {
	dir   string
	major int
}

// findBinaries returns the first directory in dirs (glob patterns, each
// expanded highest version first) that holds both initdb and postgres of a
// supported version. When wantMajor is not 0 (an existing cluster), only
// that major version will do, since a data directory only runs under the
// version that created it.
func findBinaries(ctx context.Context, dirs []string, wantMajor int) (binaries, error) {
	seen := map[string]bool{}
	var rejected []string
	for _, pattern := range dirs {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			continue // a malformed pattern matches nothing
		}
		slices.SortFunc(matches, func(a, b string) int { return -compareVersions(a, b) })
		for _, d := range matches {
			dir, ok := installDir(d)
			if !ok || seen[dir] {
				continue
			}
			seen[dir] = true
			major, err := serverMajor(ctx, dir)
			switch {
			case err != nil:
				rejected = append(rejected, fmt.Sprintf("%s (%v)", dir, err))
			case major < MinVersion:
				rejected = append(rejected, fmt.Sprintf("%s (version %d, need %d or newer)", dir, major, MinVersion))
			case wantMajor != 0 && major != wantMajor:
				rejected = append(rejected, fmt.Sprintf("%s (version %d)", dir, major))
			default:
				return binaries{dir: dir, major: major}, nil
			}
		}
	}
	remedy := "install the PostgreSQL server binaries (e.g. apt install postgresql), or pass --database-url / TINYCRM_DATABASE_URL to use an existing PostgreSQL server"
	searched := strings.Join(dirs, ", ")
	if wantMajor != 0 {
		remedy = fmt.Sprintf("the existing cluster needs PostgreSQL %d: install its server binaries (or pg_upgrade the cluster), or pass --database-url / TINYCRM_DATABASE_URL to use an existing PostgreSQL server", wantMajor)
	}
	if len(rejected) > 0 {
		return binaries{}, fmt.Errorf("%w: none usable (rejected: %s); %s", ErrNoBinaries, strings.Join(rejected, "; "), remedy)
	}
	return binaries{}, fmt.Errorf("%w (searched: %s); %s", ErrNoBinaries, searched, remedy)
}

// installDir reports the real bin directory behind d/initdb if it also
// holds postgres. Symlinks are followed because distributions link initdb
// into /usr/bin while postgres stays in the versioned directory, and initdb
// must run next to its own postgres.
func installDir(d string) (string, bool) {
	initdb, err := filepath.EvalSymlinks(filepath.Join(d, "initdb"))
	if err != nil {
		return "", false
	}
	dir := filepath.Dir(initdb)
	if !isExecutable(initdb) || !isExecutable(filepath.Join(dir, "postgres")) {
		return "", false
	}
	return dir, true
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

var versionOutput = regexp.MustCompile(`\(PostgreSQL\) (\d+)`)

// serverMajor asks postgres for its major version.
func serverMajor(ctx context.Context, dir string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(dir, "postgres"), "--version")
	cmd.Env = childEnv()
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("postgres --version: %w", err)
	}
	m := versionOutput.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("postgres --version: unexpected output %q", strings.TrimSpace(string(out)))
	}
	return strconv.Atoi(string(m[1]))
}

var digits = regexp.MustCompile(`\d+|\D+`)

// compareVersions orders paths by their numeric parts, so .../9.6/bin sorts
// before .../15/bin.
func compareVersions(a, b string) int {
	pa, pb := digits.FindAllString(a, -1), digits.FindAllString(b, -1)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, errA := strconv.Atoi(pa[i])
		nb, errB := strconv.Atoi(pb[i])
		if errA == nil && errB == nil {
			if na != nb {
				return na - nb
			}
			continue
		}
		if c := strings.Compare(pa[i], pb[i]); c != 0 {
			return c
		}
	}
	return len(pa) - len(pb)
}

package pgcluster_test

import (
	"context"
	"errors"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"tinycrm.dev/tinycrm/pgcluster"
)

// fastSettings trade durability for speed but keep synchronous_commit on, so
// a committed row survives an immediate shutdown (a process crash: the OS
// page cache keeps what was written).
var fastSettings = map[string]string{"fsync": "off", "full_page_writes": "off"}

// initCache is shared by the tests of this binary, so only the first
// cluster pays for initdb. TestStartStopReuse runs initdb for real.
var initCache string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pgcluster-initcache-")
	if err != nil {
		panic(err)
	}
	initCache = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// clusterDir returns a fresh directory that the server's user can reach even
// when the tests run as root (t.TempDir is 0700).
func clusterDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pgcluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func start(t *testing.T, opts pgcluster.Options) *pgcluster.Cluster {
	t.Helper()
	if opts.Settings == nil {
		opts.Settings = fastSettings
	}
	if opts.InitCache == "-" {
		opts.InitCache = ""
	} else {
		opts.InitCache = initCache
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pgcluster.Start(ctx, opts)
	if err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			t.Errorf("stop cluster: %v", err)
		}
	})
	return c
}

func connect(t *testing.T, c *pgcluster.Cluster) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.ConnString("postgres"))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func exec(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func count(t *testing.T, c *pgcluster.Cluster) int {
	t.Helper()
	conn := connect(t, c)
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM t").Scan(&n); err != nil {
		t.Fatalf("count rows: %v", err)
	}
	return n
}

func TestStartStopReuse(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	ctx := context.Background()

	c := start(t, pgcluster.Options{Dir: dir, InitCache: "-"})
	conn := connect(t, c)
	var user, enc, collate, ctype, lowered string
	if err := conn.QueryRow(ctx, "SELECT current_user, pg_encoding_to_char(encoding), datcollate, datctype, lower('ZOË') FROM pg_database WHERE datname = current_database()").Scan(&user, &enc, &collate, &ctype, &lowered); err != nil {
		t.Fatal(err)
	}
	if user != pgcluster.User || enc != "UTF8" || collate != "C" {
		t.Errorf("user, encoding, collation = %q, %q, %q; want %q, UTF8, C", user, enc, collate, pgcluster.User)
	}
	// Characters are classified in C.UTF-8 where the system has it (it
	// falls back to C where not), so lower() knows every letter.
	wantCtype, wantLower := "C", "zoË"
	if out, err := osexec.Command("locale", "-a").Output(); err == nil && strings.Contains(strings.ToLower(string(out)), "c.utf8") {
		wantCtype, wantLower = "C.UTF-8", "zoë"
	}
	if ctype != wantCtype || lowered != wantLower {
		t.Errorf("ctype %q, lower('ZOË') = %q; want %q, %q", ctype, lowered, wantCtype, wantLower)
	}
	var listen string
	if err := conn.QueryRow(ctx, "SHOW listen_addresses").Scan(&listen); err != nil || listen != "" {
		t.Errorf("listen_addresses = %q, %v; want empty (Unix socket only)", listen, err)
	}
	exec(t, conn, "CREATE TABLE t (v int)")
	exec(t, conn, "INSERT INTO t VALUES (1), (2)")
	conn.Close(ctx)
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := c.Stop(ctx); err != nil {
		t.Errorf("second stop: %v", err)
	}
	if _, err := pgx.Connect(ctx, c.ConnString("postgres")); err == nil {
		t.Error("connected to a stopped cluster")
	}

	c2 := start(t, pgcluster.Options{Dir: dir, InitCache: "-"})
	if n := count(t, c2); n != 2 {
		t.Errorf("after restart: %d rows, want 2", n)
	}
	if fi, err := os.Stat(c2.LogPath()); err != nil || fi.Size() == 0 {
		t.Errorf("server log %s missing or empty: %v", c2.LogPath(), err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "data", "PG_VERSION")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("data dir not at Dir/data: %v", err)
	}
}

// A server killed from outside is started again by the cluster itself,
// with its committed data; Stop then stops the new one.
func TestKilledServerIsStartedAgain(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	c := start(t, pgcluster.Options{Dir: dir})
	conn := connect(t, c)
	exec(t, conn, "CREATE TABLE t (v int)")
	exec(t, conn, "INSERT INTO t VALUES (1)")
	conn.Close(context.Background())
	pid := postmasterPID(t, dir)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		db, err := pgx.Connect(context.Background(), c.ConnString("postgres"))
		if err == nil {
			db.Close(context.Background())
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not started again 90 s after it was killed: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := count(t, c); n != 1 {
		t.Errorf("after the restart: %d rows, want 1", n)
	}
	again := postmasterPID(t, dir)
	if again == pid {
		t.Fatalf("postmaster pid %d unchanged", pid)
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(again, 0); err == nil {
		t.Errorf("postmaster %d still running after Stop", again)
	}
}

// postmasterPID reads the pid of the running postmaster of the cluster in
// dir.
func postmasterPID(t *testing.T, dir string) int {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.SplitN(string(raw), "\n", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestRestart(t *testing.T) {
	t.Parallel()
	c := start(t, pgcluster.Options{Dir: clusterDir(t)})
	conn := connect(t, c)
	exec(t, conn, "CREATE TABLE t (v int)")
	exec(t, conn, "INSERT INTO t VALUES (1)")

	ctx := context.Background()
	if err := c.Restart(ctx, "immediate"); err != nil {
		t.Fatalf("restart immediate: %v", err)
	}
	// The old session died with the server.
	if err := conn.Ping(ctx); err == nil {
		t.Error("old connection survived an immediate restart")
	}
	if n := count(t, c); n != 1 {
		t.Errorf("after immediate restart: %d rows, want 1 (committed data lost)", n)
	}
	if err := c.Restart(ctx, "fast"); err != nil {
		t.Fatalf("restart fast: %v", err)
	}
	if n := count(t, c); n != 1 {
		t.Errorf("after fast restart: %d rows, want 1", n)
	}
	if err := c.Restart(ctx, "smart"); err == nil {
		t.Error(`Restart("smart") succeeded; want an error for an unknown mode`)
	}
}

func TestTwoClustersAtOnce(t *testing.T) {
	t.Parallel()
	a := start(t, pgcluster.Options{Dir: clusterDir(t)})
	b := start(t, pgcluster.Options{Dir: clusterDir(t)})
	if a.ConnString("x") == b.ConnString("x") {
		t.Fatalf("both clusters have connection string %s", a.ConnString("x"))
	}
	for i, c := range []*pgcluster.Cluster{a, b} {
		conn := connect(t, c)
		exec(t, conn, "CREATE TABLE t (v int)")
		exec(t, conn, "INSERT INTO t SELECT generate_series(1, $1::int)", i+1)
	}
	if na, nb := count(t, a), count(t, b); na != 1 || nb != 2 {
		t.Errorf("rows = %d, %d; want 1, 2 (clusters not separate)", na, nb)
	}
}

func TestLongDirUsesShortSocketDir(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	for len(dir) < 120 {
		dir = filepath.Join(dir, "a-rather-long-directory-name")
	}
	c := start(t, pgcluster.Options{Dir: dir})
	conn := connect(t, c)
	var sock string
	if err := conn.QueryRow(context.Background(), "SHOW unix_socket_directories").Scan(&sock); err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(sock, dir) || len(sock)+len("/.s.PGSQL.5432") > 107 {
		t.Errorf("socket dir %q: want a short dir outside %s", sock, dir)
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("temporary socket dir %s left behind after Stop: %v", sock, err)
	}
}

func TestSecondStartOnSameDirIsRefused(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	c := start(t, pgcluster.Options{Dir: dir})
	_, err := pgcluster.Start(context.Background(), pgcluster.Options{Dir: dir, Settings: fastSettings, InitCache: initCache})
	if !errors.Is(err, pgcluster.ErrInUse) {
		t.Fatalf("second Start on a live cluster: err = %v, want ErrInUse", err)
	}
	if n := connect(t, c).Ping(context.Background()); n != nil {
		t.Errorf("first cluster hurt by the refused start: %v", n)
	}
}

// A second Start while the first is still creating the cluster (initdb
// running) is refused at once and does not hurt the first.
func TestSecondStartDuringInitdbIsRefused(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	opts := pgcluster.Options{Dir: dir, Settings: fastSettings} // no InitCache: a real initdb
	first := make(chan error, 1)
	var c *pgcluster.Cluster
	go func() {
		var err error
		c, err = pgcluster.Start(context.Background(), opts)
		first <- err
	}()
	// initdb without the cache takes the better part of a second.
	for {
		if _, err := os.Stat(filepath.Join(dir, "data.initdb")); err == nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, err := pgcluster.Start(context.Background(), opts)
	if !errors.Is(err, pgcluster.ErrInUse) {
		t.Errorf("second Start during initdb: err = %v, want ErrInUse", err)
	}
	if err := <-first; err != nil {
		t.Fatalf("first Start: %v", err)
	}
	defer c.Stop(context.Background())
	if err := connect(t, c).Ping(context.Background()); err != nil {
		t.Errorf("first cluster: %v", err)
	}
}

// A cluster dir with a space (and a plus) in its path works: its socket
// dir reaches pgx intact.
func TestDirWithASpace(t *testing.T) {
	t.Parallel()
	c := start(t, pgcluster.Options{Dir: filepath.Join(clusterDir(t), "with space+plus")})
	if err := connect(t, c).Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestStalePidFileIsIgnored(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	c := start(t, pgcluster.Options{Dir: dir})
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A crashed server's PID now belongs to some other live process (here:
	// this test), which would make postgres refuse to start.
	pidFile := filepath.Join(dir, "data", "postmaster.pid")
	stale := strconv.Itoa(os.Getpid()) + "\n" + filepath.Join(dir, "data") + "\n"
	if err := os.WriteFile(pidFile, []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, pgcluster.Options{Dir: dir})
}

// After a crash, the socket's lock file may name a PID that now belongs to
// a postgres of another cluster: that is no reason to refuse to start.
func TestSocketLockOfAnotherClusterIsStale(t *testing.T) {
	t.Parallel()
	dir := clusterDir(t)
	c := start(t, pgcluster.Options{Dir: dir})
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	other := clusterDir(t)
	start(t, pgcluster.Options{Dir: other})
	lock := filepath.Join(dir, "run", ".s.PGSQL.5432.lock")
	stale := strconv.Itoa(postmasterPID(t, other)) + "\n" + filepath.Join(dir, "data") + "\n"
	if err := os.WriteFile(lock, []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, pgcluster.Options{Dir: dir})
}

func TestEarlyExitReportsLogTail(t *testing.T) {
	t.Parallel()
	_, err := pgcluster.Start(context.Background(), pgcluster.Options{
		Dir:       clusterDir(t),
		Settings:  map[string]string{"fsync": "off", "shared_buffers": "lots"},
		InitCache: initCache,
	})
	if err == nil {
		t.Fatal("Start with a bad setting succeeded")
	}
	if !strings.Contains(err.Error(), "shared_buffers") {
		t.Errorf("error does not quote the server log:\n%v", err)
	}
}

func TestReservedSettingsRefused(t *testing.T) {
	t.Parallel()
	_, err := pgcluster.Start(context.Background(), pgcluster.Options{
		Dir:      clusterDir(t),
		Settings: map[string]string{"listen_addresses": "*"},
	})
	if err == nil || !strings.Contains(err.Error(), "listen_addresses") {
		t.Errorf("err = %v, want a refusal naming listen_addresses", err)
	}
}

func TestNoBinaries(t *testing.T) {
	t.Parallel()
	_, err := pgcluster.Start(context.Background(), pgcluster.Options{
		Dir:     clusterDir(t),
		BinDirs: []string{t.TempDir()},
	})
	if !errors.Is(err, pgcluster.ErrNoBinaries) {
		t.Fatalf("err = %v, want ErrNoBinaries", err)
	}
	for _, remedy := range []string{"install the PostgreSQL server binaries", "--database-url", "TINYCRM_DATABASE_URL"} {
		if !strings.Contains(err.Error(), remedy) {
			t.Errorf("error does not name the remedy %q:\n%v", remedy, err)
		}
	}
}

func TestRootNeedsReachableDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root runs the server as another user")
	}
	t.Parallel()
	private, err := os.MkdirTemp("", "pgcluster-private-") // 0700, like /root
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(private) })
	_, err = pgcluster.Start(context.Background(), pgcluster.Options{Dir: filepath.Join(private, "db"), Settings: fastSettings})
	if err == nil || !strings.Contains(err.Error(), "/var/lib/tinycrm") || !strings.Contains(err.Error(), private) {
		t.Fatalf("err = %v, want one naming %s and suggesting /var/lib/tinycrm", err, private)
	}
	if fi, err := os.Stat(private); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("private dir mode changed: %v, %v", fi.Mode(), err)
	}
	if _, err := os.Stat(filepath.Join(private, "db")); !os.IsNotExist(err) {
		t.Errorf("cluster dir created although unusable: %v", err)
	}
}

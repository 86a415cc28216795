// Package pgcluster runs a private PostgreSQL cluster: TinyCRM's managed mode
// and the test harness use it when no database URL is given.
//
// Start creates the cluster with initdb on first use (and reuses it later),
// runs the postgres server as a child process that listens on a Unix socket
// only, and waits until it accepts connections. Stop shuts it down.
//
// Layout of the cluster directory (Options.Dir):
//
//	Dir/data          PGDATA, created by initdb
//	Dir/run           the Unix socket directory (see below)
//	Dir/postgres.log  the server's log (rotated once to postgres.log.1 past 16 MiB)
//
// A Unix socket path must fit in 107 bytes. When Dir/run/.s.PGSQL.5432 would
// not, the socket directory is os.TempDir()/tinycrm-pg-<hash of Dir> instead,
// and Stop removes it again.
//
// Give the cluster a directory of its own (the daemon uses
// <data-dir>/postgres): as root, pgcluster hands Dir to another user.
//
// The superuser role is always "tinycrm" (see User) and local connections use
// trust authentication, so the connecting OS user does not matter (as root
// we connect as root; peer authentication would refuse that). TCP is switched
// off and rejected in pg_hba.conf. What keeps other local users out is the
// socket directory's mode: 0700 and ours when not root; as root, owned by the
// server's user with group root and mode 0750.
//
// Running as root: initdb and postgres refuse to run as root, so they run as
// the user "postgres" (or "nobody" when that does not exist; Options.RunAs
// overrides). The cluster directory is chowned to that user with mode 0750
// and group = our effective group, and every ancestor of it must already be
// traversable by that user: pgcluster never changes the permissions of
// directories it did not create, so a cluster under /root fails with an error
// that suggests a directory such as /var/lib/tinycrm.
//
// The server is a child of this process, in its own process group so that a
// Ctrl-C on the terminal reaches only us and we decide when the database
// stops. If this process dies without calling Stop, Linux delivers SIGQUIT to
// the server (Pdeathsig: an immediate shutdown; the next Start runs crash
// recovery). Callers must still call Stop on every normal exit path.
//
// pgcluster must not open TCP ports, touch PostgreSQL clusters it did not
// create, or change permissions outside the cluster directory. It supports
// Linux and other Unix systems (without the parent-death signal); not Windows.
package pgcluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// User is the superuser role of every cluster pgcluster creates; ConnString
// connects as it.
const User = "tinycrm"

// Port is the port number of every cluster. PostgreSQL names its socket file
// after it (.s.PGSQL.5432); clusters differ by socket directory, so any number
// of them can run on one machine at once, and no TCP port is opened.
const Port = 5432

// MinVersion is the oldest PostgreSQL major version pgcluster runs.
const MinVersion = 14

// ErrNoBinaries is returned (wrapped) by Start when no usable initdb and
// postgres binaries were found.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, postgres) not found")

// ErrInUse is returned (wrapped) by Start when a live PostgreSQL server
// already runs on the cluster directory, for example a second daemon started
// on the same data directory.
var ErrInUse = errors.New("cluster directory in use by a running PostgreSQL server")

// defaultBinDirs are searched for initdb and postgres after the directories
// on PATH: Debian/Ubuntu's layout, then the PGDG RPM one.
func defaultBinDirs() []string {
	return []string{"/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin"}
}

// Options configures Start.
type Options struct {
	// Dir is the cluster directory (see the package comment for its layout).
	// It is created if missing. Required.
	Dir string

	// Logger receives the launcher's own messages (the server's log goes to
	// Dir/postgres.log). Nil discards them.
	Logger *slog.Logger

	// Settings are extra server settings, passed as "-c key=value" and
	// applied after pgcluster's own, e.g. {"fsync": "off"} for tests. The
	// settings that keep the server on a private Unix socket
	// (listen_addresses, port, unix_socket_directories,
	// unix_socket_permissions, unix_socket_group) cannot be changed.
	// fsync stays on unless set here: durability is a product promise.
	Settings map[string]string

	// BinDirs, when non-nil, is the complete list of directories searched for
	// initdb and postgres, in order of preference; "*" may stand for a
	// version, and higher versions are tried first. Nil means the absolute
	// directories on PATH, then /usr/lib/postgresql/*/bin and
	// /usr/pgsql-*/bin. A directory qualifies when it (or the target of its
	// initdb symlink) holds both initdb and postgres of version 14 or newer;
	// for an existing cluster, of the cluster's major version.
	BinDirs []string

	// RunAs is the user the server runs as when this process is root.
	// Empty means "postgres", or "nobody" if there is no such user. Ignored
	// when not root: then the server runs as the current user.
	RunAs string

	// InitCache, if set, is a directory where a fresh initdb result is kept,
	// one per PostgreSQL installation and version: later new clusters are
	// copied from it instead of running initdb again (seconds saved per
	// test binary). Meant for tests; it must be private to the user running
	// them. Empty: always run initdb.
	InitCache string

	// StartTimeout bounds the wait for the server to accept connections
	// (crash recovery included), in addition to the ctx passed to Start.
	// Zero means 2 minutes.
	StartTimeout time.Duration
}

// Cluster is a running (or stopped) PostgreSQL cluster. Its methods are safe
// for concurrent use.
type Cluster struct {
	log       *slog.Logger
	dir       string
	dataDir   string
	sockDir   string
	tmpSock   bool // sockDir lives under os.TempDir(), removed on Stop
	logPath   string
	bin       binaries
	owner     *account // nil when not root: the server runs as us
	settings  map[string]string
	startWait time.Duration
	initCache string

	lock *os.File // the cluster dir's lock, held from Start to Stop

	mu      sync.Mutex
	srv     *server       // nil while stopped
	stopped bool          // Stop was called: nothing may start it again
	quit    chan struct{} // closed by Stop, to end a restart's wait
}

// server is one run of the postmaster.
type server struct {
	cmd      *exec.Cmd
	done     chan struct{} // closed once the process has exited
	err      error         // the exit status; read only after done is closed
	stopping atomic.Bool   // set before we signal it, so its exit is expected
	ready    atomic.Bool   // it accepted connections; a later exit is news
}

// reserved are the settings that make the cluster private; Settings may not
// override them.
var reserved = []string{"listen_addresses", "port", "unix_socket_directories", "unix_socket_permissions", "unix_socket_group"}

var settingName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*$`)

const (
	sockFile   = ".s.PGSQL.5432"
	logMaxSize = 16 << 20
)

// Start prepares the cluster directory, runs initdb if the cluster does not
// exist yet, starts postgres and returns once it accepts connections. ctx
// bounds only the start: the server keeps running until Stop.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	c, err := newCluster(opts)
	if err != nil {
		return nil, err
	}
	wantMajor, err := c.existingMajor()
	if err != nil {
		return nil, err
	}
	if c.bin, err = findBinaries(ctx, c.binDirs(opts.BinDirs), wantMajor); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	c.log.Debug("using PostgreSQL binaries", "dir", c.bin.dir, "version", c.bin.major)
	if err := c.prepareDir(); err != nil {
		return nil, err
	}
	if err := c.lockDir(); err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started {
			c.unlockDir()
		}
	}()
	if wantMajor == 0 {
		// Another process may have made the cluster while we waited for
		// nothing: the lock is ours only now.
		if wantMajor, err = c.existingMajor(); err != nil {
			return nil, err
		}
		if wantMajor != 0 && wantMajor != c.bin.major {
			if c.bin, err = findBinaries(ctx, c.binDirs(opts.BinDirs), wantMajor); err != nil {
				return nil, fmt.Errorf("start postgres: %w", err)
			}
		}
	}
	if wantMajor == 0 {
		if err := c.initdb(ctx); err != nil {
			return nil, err
		}
	} else if err := c.adoptDataDir(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.launch(ctx); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	started = true
	return c, nil
}

func newCluster(opts Options) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("start postgres: Options.Dir is required")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("start postgres: cluster dir: %w", err)
	}
	for _, k := range slices.Sorted(maps.Keys(opts.Settings)) {
		if !settingName.MatchString(k) {
			return nil, fmt.Errorf("start postgres: bad setting name %q", k)
		}
		if slices.Contains(reserved, strings.ToLower(k)) {
			return nil, fmt.Errorf("start postgres: setting %q is managed by pgcluster and cannot be overridden", k)
		}
		if strings.ContainsRune(opts.Settings[k], 0) {
			return nil, fmt.Errorf("start postgres: setting %q contains a NUL byte", k)
		}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Cluster{
		log:       log.With("cluster", dir),
		dir:       dir,
		dataDir:   filepath.Join(dir, "data"),
		logPath:   filepath.Join(dir, "postgres.log"),
		settings:  maps.Clone(opts.Settings),
		startWait: opts.StartTimeout,
		initCache: opts.InitCache,
		quit:      make(chan struct{}),
	}
	if c.startWait <= 0 {
		c.startWait = 2 * time.Minute
	}
	c.sockDir = filepath.Join(dir, "run")
	if len(c.sockDir)+1+len(sockFile) > maxSocketPath {
		sum := sha256.Sum256([]byte(dir))
		c.sockDir = filepath.Join(os.TempDir(), "tinycrm-pg-"+hex.EncodeToString(sum[:8]))
		c.tmpSock = true
		if len(c.sockDir)+1+len(sockFile) > maxSocketPath {
			return nil, fmt.Errorf("start postgres: socket path under %s would exceed %d bytes; use a shorter cluster dir or TMPDIR", c.sockDir, maxSocketPath)
		}
	}
	if strings.ContainsAny(c.sockDir, `",`) {
		return nil, fmt.Errorf("start postgres: socket dir %q may not contain a comma or a double quote", c.sockDir)
	}
	if os.Geteuid() == 0 {
		if c.owner, err = lookupServerUser(opts.RunAs); err != nil {
			return nil, fmt.Errorf("start postgres: %w", err)
		}
	}
	return c, nil
}

func (c *Cluster) binDirs(dirs []string) []string {
	if dirs != nil {
		return dirs
	}
	var out []string
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if d != "" && filepath.IsAbs(d) { // an empty or relative PATH entry means the working directory: never trust it
			out = append(out, d)
		}
	}
	return append(out, defaultBinDirs()...)
}

// ConnString returns a pgx connection URL for database over the Unix socket,
// as the superuser User, e.g.
// "postgres://tinycrm@/app?host=%2Fdata%2Frun&port=5432&sslmode=disable".
// pgxpool.New accepts it; append "&pool_max_conns=N" to size the pool.
func (c *Cluster) ConnString(database string) string {
	q := url.Values{}
	q.Set("host", c.sockDir)
	q.Set("port", strconv.Itoa(Port))
	q.Set("sslmode", "disable")
	// Encode writes a space as "+", which pgx reads back as a "+": a
	// socket dir with a space in its path needs "%20".
	u := url.URL{Scheme: "postgres", User: url.User(User), Host: "", Path: "/" + database, RawQuery: strings.ReplaceAll(q.Encode(), "+", "%20")}
	return u.String()
}

// LogPath returns the path of the server's log file.
func (c *Cluster) LogPath() string { return c.logPath }

// Stop shuts the server down with a fast shutdown (SIGINT: open sessions are
// ended, a checkpoint is written) and waits for it to exit. If ctx ends first
// it escalates to an immediate shutdown, then SIGKILL, and returns ctx's
// error. Stopping a stopped cluster does nothing.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.stopped {
		c.stopped = true
		close(c.quit)
	}
	err := c.stop(ctx, syscall.SIGINT)
	c.unlockDir()
	return err
}

// lockName is the file in the cluster dir whose lock a running Cluster
// holds.
const lockName = "tinycrm.lock"

// lockDir takes the cluster dir's lock, so that a second process starting
// on the same dir is told it is in use at once, even while the first one
// is still running initdb (whose scratch dir the second would otherwise
// remove under it). The kernel releases it when the process dies.
func (c *Cluster) lockDir() error {
	path := filepath.Join(c.dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("lock cluster dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("%w: another process (a tinycrmd starting or running) holds %s; stop it, or use another data dir", ErrInUse, path)
		}
		return fmt.Errorf("lock cluster dir: %w", err)
	}
	c.lock = f
	return nil
}

// unlockDir releases the lock lockDir took, if it is held.
func (c *Cluster) unlockDir() {
	if c.lock != nil {
		c.lock.Close()
		c.lock = nil
	}
}

// Restart stops the server with the given shutdown mode, "fast" (like Stop)
// or "immediate" (SIGQUIT: no checkpoint, like a crash; the next start runs
// crash recovery), then starts it again and waits until it accepts
// connections. Fault tests use it to take the database away under load.
func (c *Cluster) Restart(ctx context.Context, mode string) error {
	var sig syscall.Signal
	switch mode {
	case "fast":
		sig = syscall.SIGINT
	case "immediate":
		sig = syscall.SIGQUIT
	default:
		return fmt.Errorf("restart postgres: unknown shutdown mode %q (want fast or immediate)", mode)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.stop(ctx, sig); err != nil {
		return fmt.Errorf("restart postgres: %w", err)
	}
	if err := c.launch(ctx); err != nil {
		return fmt.Errorf("restart postgres: %w", err)
	}
	return nil
}

// stop signals the server and waits for it. c.mu must be held.
func (c *Cluster) stop(ctx context.Context, sig syscall.Signal) error {
	s := c.srv
	if s == nil {
		return nil
	}
	c.srv = nil
	defer c.removeTmpSockDir()
	start := time.Now()
	if err := s.signal(sig); err != nil {
		return fmt.Errorf("stop postgres: %w", err)
	}
	select {
	case <-s.done:
		c.log.Info("PostgreSQL stopped", "mode", modeName(sig), "took", time.Since(start).Round(time.Millisecond))
		return nil
	case <-ctx.Done():
	}
	// Out of patience: an immediate shutdown still lets the postmaster take
	// its children down; SIGKILL is the last resort.
	c.log.Warn("PostgreSQL did not stop in time; forcing it", "mode", modeName(sig))
	_ = s.signal(syscall.SIGQUIT)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.signal(syscall.SIGKILL)
		<-s.done
	}
	return fmt.Errorf("stop postgres: %w", context.Cause(ctx))
}

func modeName(sig syscall.Signal) string {
	if sig == syscall.SIGQUIT {
		return "immediate"
	}
	return "fast"
}

func (s *server) signal(sig syscall.Signal) error {
	s.stopping.Store(true)
	select {
	case <-s.done:
		return nil // already gone
	default:
	}
	if err := s.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal postgres (pid %d): %w", s.cmd.Process.Pid, err)
	}
	return nil
}

// launch starts the postmaster and waits until it accepts connections.
// c.mu must be held.
func (c *Cluster) launch(ctx context.Context) error {
	if err := c.prepareSockDir(); err != nil {
		return err
	}
	if err := checkLockFile(filepath.Join(c.dataDir, "postmaster.pid"), c.dataDir, c.log); err != nil {
		return err
	}
	if err := checkLockFile(filepath.Join(c.sockDir, sockFile+".lock"), c.dataDir, c.log); err != nil {
		return err
	}
	logFile, logStart, err := c.openLog()
	if err != nil {
		return err
	}
	args := []string{"-D", c.dataDir,
		"-c", "listen_addresses=",
		"-c", "port=" + strconv.Itoa(Port),
		"-c", "unix_socket_directories=" + c.sockDir,
		"-c", "unix_socket_permissions=0777", // the directory is the gate
		"-c", "cluster_name=tinycrm",
	}
	for _, k := range slices.Sorted(maps.Keys(c.settings)) {
		args = append(args, "-c", k+"="+c.settings[k])
	}
	cmd := exec.Command(filepath.Join(c.bin.dir, "postgres"), args...)
	cmd.Dir = c.dir
	cmd.Env = childEnv()
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = serverProcAttr(c.owner.credential())
	began := time.Now()
	s, err := spawn(cmd, c.log)
	logFile.Close() // the child has its own copy
	if err != nil {
		return fmt.Errorf("run %s: %w", cmd.Path, err)
	}
	if err := c.waitReady(ctx, s, logStart); err != nil {
		s.stopping.Store(true)
		_ = s.signal(syscall.SIGQUIT)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = s.signal(syscall.SIGKILL)
			<-s.done
		}
		c.removeTmpSockDir()
		return err
	}
	s.ready.Store(true)
	c.srv = s
	go c.watch(s)
	c.log.Info("PostgreSQL started", "pid", cmd.Process.Pid, "version", c.bin.major, "socket_dir", c.sockDir, "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// maxRestartWait caps the wait between attempts to start a server that
// died on its own.
const maxRestartWait = 30 * time.Second

// watch starts the server again when it dies on its own (killed, out of
// memory, a crash): nothing else would, and until it is back every request
// of the daemon gets a 503. It waits a second, then twice as long after
// each failed attempt (a dead postmaster's backends may hold its shared
// memory for a moment), until it succeeds or Stop is called. The new
// server has a watch of its own.
func (c *Cluster) watch(s *server) {
	<-s.done
	if s.stopping.Load() {
		return
	}
	wait := time.Second
	for {
		select {
		case <-c.quit:
			return
		case <-time.After(wait):
		}
		c.mu.Lock()
		if c.stopped || c.srv != s {
			// Stopped, or started again by Restart, meanwhile.
			c.mu.Unlock()
			return
		}
		c.removeTmpSockDir()
		err := c.launch(context.Background())
		c.mu.Unlock()
		if err == nil {
			c.log.Info("PostgreSQL started again after it exited unexpectedly")
			return
		}
		wait = min(2*wait, maxRestartWait)
		c.log.Error("cannot start PostgreSQL again after it exited unexpectedly", "err", err, "next_try_in", wait)
	}
}

// spawn starts cmd from a goroutine locked to its OS thread, which stays
// locked until the child exits: Linux sends the parent-death signal when the
// *thread* that forked the child ends, not the process, and the Go runtime
// ends a thread whenever a goroutine that locked it exits. Holding the
// thread keeps any other goroutine from taking it and dying with it.
func spawn(cmd *exec.Cmd, log *slog.Logger) (*server, error) {
	s := &server{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		s.err = cmd.Wait()
		if s.ready.Load() && !s.stopping.Load() {
			log.Error("PostgreSQL exited unexpectedly", "pid", cmd.Process.Pid, "status", s.err)
		}
		close(s.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return s, nil
}

// waitReady polls with real connections until the server answers, it exits,
// or time runs out.
func (c *Cluster) waitReady(ctx context.Context, s *server, logStart int64) error {
	ctx, cancel := context.WithTimeout(ctx, c.startWait)
	defer cancel()
	conn := c.ConnString("postgres")
	var lastErr error
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, 5*time.Second)
		db, err := pgx.Connect(attempt, conn)
		if err == nil {
			err = db.Ping(attempt)
			db.Close(attempt)
		}
		cancelAttempt()
		if err == nil {
			return nil
		}
		lastErr = err
		select {
		case <-s.done:
			status := s.err
			if status == nil {
				status = errors.New("exit status 0")
			}
			return fmt.Errorf("postgres exited before accepting connections: %w; %s ends with:\n%s", status, c.logPath, logTail(c.logPath, logStart))
		case <-ctx.Done():
			return fmt.Errorf("postgres did not accept connections in time: %w (last attempt: %v); %s ends with:\n%s", context.Cause(ctx), lastErr, c.logPath, logTail(c.logPath, logStart))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// openLog opens the server log for appending, rotating it first when it has
// grown large, and returns the offset where this run's lines begin.
func (c *Cluster) openLog() (*os.File, int64, error) {
	if fi, err := os.Stat(c.logPath); err == nil && fi.Size() > logMaxSize {
		if err := os.Rename(c.logPath, c.logPath+".1"); err != nil {
			return nil, 0, fmt.Errorf("rotate postgres log: %w", err)
		}
	}
	f, err := os.OpenFile(c.logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, 0, fmt.Errorf("open postgres log: %w", err)
	}
	if err := c.owner.chown(c.logPath); err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("open postgres log: %w", err)
	}
	off, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("open postgres log: %w", err)
	}
	return f, off, nil
}

// logTail returns the last lines written to path since offset from.
func logTail(path string, from int64) string {
	const limit = 4 << 10
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	start := max(from, fi.Size()-limit)
	if fi.Size() < start {
		start = 0 // rotated or truncated underneath us
	}
	b := make([]byte, fi.Size()-start)
	n, _ := f.ReadAt(b, start)
	text := string(b[:n])
	if start > from {
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			text = text[i+1:]
		}
	}
	text = strings.TrimRight(text, "\n")
	if text == "" {
		return "(log is empty)"
	}
	return text
}

// childEnv is our environment without the variables that would steer
// initdb or postgres (PGDATA, PGPORT, locale), plus a fixed C locale.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PG") || strings.HasPrefix(k, "LC_") || k == "LANG" || k == "LANGUAGE" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}

// prepareDir creates the cluster directory and, as root, hands it to the
// server's user after checking that user can reach it.
func (c *Cluster) prepareDir() error {
	if c.owner != nil {
		if err := c.owner.checkReachable(c.dir); err != nil {
			return err
		}
	}
	created, err := mkdirAll(c.dir)
	if err != nil {
		return fmt.Errorf("create cluster dir: %w", err)
	}
	if c.owner == nil {
		if slices.Contains(created, c.dir) {
			if err := os.Chmod(c.dir, 0o700); err != nil {
				return fmt.Errorf("create cluster dir: %w", err)
			}
		}
		return nil
	}
	// Directories we just created on the way must not lock the server out
	// (a root umask of 077 would); existing ones are the owner's business.
	for _, d := range created {
		if d != c.dir {
			if err := os.Chmod(d, 0o755); err != nil {
				return fmt.Errorf("create cluster dir: %w", err)
			}
		}
	}
	if err := c.owner.chown(c.dir); err != nil {
		return fmt.Errorf("prepare cluster dir: %w", err)
	}
	if err := os.Chmod(c.dir, 0o750); err != nil {
		return fmt.Errorf("prepare cluster dir: %w", err)
	}
	return nil
}

// mkdirAll is os.MkdirAll that reports which directories it created.
func mkdirAll(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	slices.Reverse(missing)
	for _, d := range missing {
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
	}
	return missing, nil
}

// prepareSockDir creates the socket directory, private to the server's
// user. An existing one must be a real directory owned by that user (or by
// us, when root): under /tmp anyone could have made it first.
func (c *Cluster) prepareSockDir() error {
	err := os.Mkdir(c.sockDir, 0o700)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create socket dir: %w", err)
	}
	fi, err := os.Lstat(c.sockDir)
	if err != nil {
		return fmt.Errorf("create socket dir: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("create socket dir: %s exists and is not a directory", c.sockDir)
	}
	uid := fileOwner(fi)
	wantUID := uint32(os.Geteuid())
	if c.owner != nil {
		wantUID = c.owner.uid
	}
	if uid != wantUID && uid != uint32(os.Geteuid()) {
		return fmt.Errorf("create socket dir: %s belongs to uid %d, not uid %d; remove it", c.sockDir, uid, wantUID)
	}
	if c.owner == nil {
		if err := os.Chmod(c.sockDir, 0o700); err != nil {
			return fmt.Errorf("create socket dir: %w", err)
		}
		return nil
	}
	// Owned by the server's user, group = ours (root), 0750: nobody else
	// gets in, and we connect as root.
	if err := c.owner.chown(c.sockDir); err != nil {
		return fmt.Errorf("create socket dir: %w", err)
	}
	if err := os.Chmod(c.sockDir, 0o750); err != nil {
		return fmt.Errorf("create socket dir: %w", err)
	}
	return nil
}

func (c *Cluster) removeTmpSockDir() {
	if c.tmpSock {
		_ = os.Remove(filepath.Join(c.sockDir, sockFile+".lock"))
		_ = os.Remove(c.sockDir) // fails harmlessly if something is left inside
	}
}

// existingMajor returns the PostgreSQL major version of the cluster in
// c.dataDir, or 0 when there is no cluster yet.
func (c *Cluster) existingMajor() (int, error) {
	b, err := os.ReadFile(filepath.Join(c.dataDir, "PG_VERSION"))
	if err == nil {
		v, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return 0, fmt.Errorf("read cluster version: bad PG_VERSION in %s: %q", c.dataDir, b)
		}
		return v, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("read cluster version: %w", err)
	}
	entries, err := os.ReadDir(c.dataDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("read cluster version: %w", err)
	case len(entries) > 0:
		return 0, fmt.Errorf("read cluster version: %s is not empty but holds no PostgreSQL cluster (no PG_VERSION); move it away", c.dataDir)
	}
	if err := os.Remove(c.dataDir); err != nil {
		return 0, fmt.Errorf("read cluster version: %w", err)
	}
	return 0, nil
}

// adoptDataDir makes an existing data directory belong to the server's user
// when we run as root (for example after the user changed).
func (c *Cluster) adoptDataDir() error {
	if c.owner == nil {
		return nil
	}
	fi, err := os.Stat(c.dataDir)
	if err != nil {
		return fmt.Errorf("prepare data dir: %w", err)
	}
	if fileOwner(fi) == c.owner.uid {
		return nil
	}
	c.log.Warn("changing owner of existing data dir", "data_dir", c.dataDir, "user", c.owner.name)
	err = filepath.WalkDir(c.dataDir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(c.owner.uid), int(c.owner.gid))
	})
	if err != nil {
		return fmt.Errorf("prepare data dir: %w", err)
	}
	return nil
}

func isOff(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "off", "false", "no", "0":
		return true
	}
	return false
}

// checkLockFile deals with a lock file (postmaster.pid, or the socket's
// .lock) left behind by an earlier server. A live PostgreSQL server holding
// it is ErrInUse. A dead one's file is left for postgres, which replaces it;
// but when the PID has since been reused by an unrelated process (common in
// containers, where PIDs restart from 1), postgres would refuse to start, so
// the stale file is removed here. wantDir, if set, is the data directory a
// live server must be running in to count.
func checkLockFile(path, wantDir string, log *slog.Logger) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read lock file: %w", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err == nil && pid > 0 {
		switch processState(pid, wantDir) {
		case procPostgres:
			return fmt.Errorf("%w: PostgreSQL (PID %d) already runs with lock file %s; stop it, or use another data dir", ErrInUse, pid, path)
		case procGone:
			return nil // postgres replaces it itself
		}
	}
	log.Warn("removing stale PostgreSQL lock file", "path", path, "pid", pid)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale lock file: %w", err)
	}
	return nil
}

type procState int

const (
	procGone     procState = iota // no such process
	procOther                     // alive, but not a postgres of ours
	procPostgres                  // a live postgres (in wantDir, when known)
)

func processState(pid int, wantDir string) procState {
	if pid == os.Getpid() {
		return procOther
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		// No /proc entry: either gone, or no procfs (then ask the kernel and
		// leave the rest to postgres).
		if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
			if _, statErr := os.Stat("/proc/self"); statErr == nil {
				return procGone
			}
			return procPostgres
		}
		return procGone
	}
	if strings.TrimSpace(string(comm)) != "postgres" {
		return procOther
	}
	if wantDir != "" {
		// The postmaster's working directory is its data directory.
		if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err == nil && cwd != wantDir {
			return procOther
		}
	}
	return procPostgres
}

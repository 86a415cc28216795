package pgcluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// initdb creates the cluster in a scratch directory and renames it into
// place, so a crash half-way never leaves a half-made cluster that a later
// start would try to use.
//
// The cluster collates in C (byte order: fast, and the same on every
// machine) but classifies characters in C.UTF-8 where the system has it,
// so lower(), ILIKE and pg_trgm know that Ë is the upper case of ë: in
// LC_CTYPE C they fold ASCII only, and a search for "ZOË" missed "Zoë".
// Without C.UTF-8 (some older systems) it falls back to C, with a warning.
func (c *Cluster) initdb(ctx context.Context) error {
	err := c.initdbWith(ctx, "C.UTF-8")
	var le *localeError
	if errors.As(err, &le) {
		c.log.Warn("no C.UTF-8 locale here: this cluster's lower() and case-insensitive search fold ASCII letters only", "err", err)
		err = c.initdbWith(ctx, "C")
	}
	return err
}

// localeError is initdb refusing a locale the system does not have.
type localeError struct{ err error }

func (e *localeError) Error() string { return e.err.Error() }
func (e *localeError) Unwrap() error { return e.err }

// initdbWith runs initdb (or copies its cached result) with LC_CTYPE
// ctype.
func (c *Cluster) initdbWith(ctx context.Context, ctype string) error {
	tmp := c.dataDir + ".initdb"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("initdb: remove leftover %s: %w", tmp, err)
	}
	args := []string{"-D", tmp, "-U", User, "-E", "UTF8", "--locale=C", "--lc-ctype=" + ctype,
		"--auth-local=trust", "--auth-host=reject", "--no-instructions"}
	began := time.Now()
	cached := c.cachePath(args[2:])
	fromCache := false
	if cached != "" {
		// One initdb per cache entry: concurrent starters (parallel tests,
		// test binaries) wait for the first one, then copy its result. An
		// entry appears by rename, complete, so copying needs no lock.
		unlock, err := lockFile(ctx, cached+".lock")
		if err != nil {
			c.log.Warn("initdb cache unavailable", "err", err)
			cached = ""
		} else {
			defer unlock()
			if _, err := os.Stat(filepath.Join(cached, "PG_VERSION")); err == nil {
				unlock()
				if err := copyTree(cached, tmp, c.owner); err == nil {
					fromCache = true
				} else {
					c.log.Warn("cannot copy cached initdb result; running initdb", "err", err)
					cached = ""
					if err := os.RemoveAll(tmp); err != nil {
						return fmt.Errorf("initdb: remove partial copy: %w", err)
					}
				}
			}
		}
	}
	if !fromCache {
		if isOff(c.settings["fsync"]) {
			args = append(args, "--no-sync")
		}
		cmd := exec.CommandContext(ctx, filepath.Join(c.bin.dir, "initdb"), args...)
		cmd.Dir = c.dir
		cmd.Env = childEnv()
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.owner.credential()}
		out, err := cmd.CombinedOutput()
		if err != nil {
			err = fmt.Errorf("initdb %s: %w\n%s", c.dataDir, err, strings.TrimSpace(string(out)))
			if strings.Contains(string(out), "invalid locale name") {
				return &localeError{err: err}
			}
			return err
		}
		if cached != "" {
			c.fillCache(tmp, cached)
		}
	}
	if err := os.Rename(tmp, c.dataDir); err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	c.log.Info("created PostgreSQL cluster", "data_dir", c.dataDir, "version", c.bin.major, "lc_ctype", ctype,
		"from_cache", fromCache, "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// cachePath returns where the cache keeps the initdb result for these
// binaries and flags ("" without a cache), creating the cache directory.
func (c *Cluster) cachePath(flags []string) string {
	if c.initCache == "" {
		return ""
	}
	if err := os.MkdirAll(c.initCache, 0o700); err != nil {
		c.log.Warn("initdb cache unavailable", "err", err)
		return ""
	}
	sum := sha256.Sum256([]byte(c.bin.dir + "\x00" + strings.Join(flags, "\x00")))
	return filepath.Join(c.initCache, "pg"+strconv.Itoa(c.bin.major)+"-"+hex.EncodeToString(sum[:8]))
}

// lockFile takes an exclusive flock on path, polling so that ctx can end
// the wait.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			var once sync.Once
			return func() { once.Do(func() { f.Close() }) }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, context.Cause(ctx))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// fillCache copies a fresh data directory into the cache (under the cache
// lock). Failure only costs speed, so it is logged, not returned.
func (c *Cluster) fillCache(dataDir, cached string) {
	staging, err := os.MkdirTemp(c.initCache, ".staging-")
	if err != nil {
		c.log.Warn("cannot cache initdb result", "err", err)
		return
	}
	defer os.RemoveAll(staging)
	if err := copyTree(dataDir, filepath.Join(staging, "data"), nil); err != nil {
		c.log.Warn("cannot cache initdb result", "err", err)
		return
	}
	if err := os.Rename(filepath.Join(staging, "data"), cached); err != nil {
		c.log.Warn("cannot cache initdb result", "err", err)
	}
}

// copyTree copies a data directory (directories and regular files only),
// keeping permission bits, and gives the copy to owner (nil: to us).
func copyTree(src, dst string, owner *account) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.Mkdir(target, info.Mode().Perm()); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			if err := copyFile(path, target, info.Mode().Perm()); err != nil {
				return err
			}
		default:
			return fmt.Errorf("copy %s: not a regular file or directory", path)
		}
		return owner.chown(target)
	})
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

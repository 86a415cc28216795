package pgcluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
)

// account is the unprivileged user the server runs as when we are root.
// A nil *account means "not root: run as ourselves", and its methods are
// then no-ops.
type account struct {
	name   string
	uid    uint32
	gid    uint32
	groups []uint32
}

// lookupServerUser finds the user to run initdb and postgres as: name, or
// "postgres", or "nobody".
func lookupServerUser(name string) (*account, error) {
	names := []string{name}
	if name == "" {
		names = []string{"postgres", "nobody"}
	}
	var u *user.User
	var err error
	for _, n := range names {
		if u, err = user.Lookup(n); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL must run as another user, but none was found (tried %v): %w", names, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: bad uid %q", u.Username, u.Uid)
	}
	if uid == 0 {
		return nil, fmt.Errorf("user %s has uid 0; PostgreSQL refuses to run as root", u.Username)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("user %s: bad gid %q", u.Username, u.Gid)
	}
	a := &account{name: u.Username, uid: uint32(uid), gid: uint32(gid)}
	ids, err := u.GroupIds()
	if err != nil {
		return nil, fmt.Errorf("user %s: list groups: %w", u.Username, err)
	}
	for _, id := range ids {
		g, err := strconv.ParseUint(id, 10, 32)
		if err == nil && uint32(g) != a.gid {
			a.groups = append(a.groups, uint32(g))
		}
	}
	return a, nil
}

// credential is what the children run with; nil keeps our own.
func (a *account) credential() *syscall.Credential {
	if a == nil {
		return nil
	}
	return &syscall.Credential{Uid: a.uid, Gid: a.gid, Groups: append([]uint32{}, a.groups...)}
}

// chown gives path to the server's user, with our own group (root's), so
// that access for "us" never depends on the server's user's group.
func (a *account) chown(path string) error {
	if a == nil {
		return nil
	}
	if err := os.Lchown(path, int(a.uid), os.Getegid()); err != nil {
		return fmt.Errorf("give %s to user %s: %w", path, a.name, err)
	}
	return nil
}

// checkReachable fails when the server's user cannot search every existing
// directory from / down to dir (missing ones pgcluster creates, 0755). It
// reads mode bits only (not ACLs), and never changes anything: making a home
// directory world-searchable is not our call.
func (a *account) checkReachable(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return fmt.Errorf("check cluster dir: %w", err)
		case !a.canSearch(fi):
			return fmt.Errorf("cluster dir %s is not reachable by user %s (PostgreSQL refuses to run as root, so it runs as %s): %s has mode %04o and owner uid %d; "+
				"use a data directory outside home directories that %s can reach, such as /var/lib/tinycrm",
				dir, a.name, a.name, d, fi.Mode().Perm(), fileOwner(fi), a.name)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

func (a *account) canSearch(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true // cannot tell; let the server report it
	}
	perm := fi.Mode().Perm()
	switch {
	case st.Uid == a.uid:
		return perm&0o100 != 0
	case st.Gid == a.gid || slices.Contains(a.groups, st.Gid):
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

// fileOwner returns the uid owning fi, or an impossible uid when unknown.
func fileOwner(fi fs.FileInfo) uint32 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Uid
	}
	return ^uint32(0)
}

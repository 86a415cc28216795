//go:build unix && !linux

package pgcluster

import "syscall"

// maxSocketPath is the longest Unix socket path on the BSDs and macOS:
// sizeof(sun_path) - 1.
const maxSocketPath = 103

// serverProcAttr puts the server in its own process group, so a terminal's
// Ctrl-C does not stop the database under a daemon that is still draining
// requests. There is no parent-death signal here: callers must Stop.
func serverProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Credential: cred}
}

package pgcluster

import "syscall"

// maxSocketPath is the longest Unix socket path: sizeof(sun_path) - 1.
const maxSocketPath = 107

// serverProcAttr puts the server in its own process group (a terminal's
// Ctrl-C must not stop the database under a daemon that is still draining
// requests) and asks Linux for an immediate shutdown (SIGQUIT) if we die
// without stopping it. Go sets the death signal after switching to cred,
// so the credential change does not clear it.
func serverProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGQUIT, Credential: cred}
}

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/internal/dirs"
)

// configFile is what `tinycrm login` saves: the server and its admin token.
type configFile struct {
	Server string `json:"server"`
	Token  string `json:"token"`
}

// target is the server the CLI talks to and the token it sends, with where
// each came from (for error messages).
type target struct {
	Server     string
	Token      string
	ServerFrom string // "--server", "TINYCRM_URL", "config file", "default"
	TokenFrom  string // "--token", "TINYCRM_TOKEN", "config file", the token file's path
}

// sources are the inputs of resolveTarget.
type sources struct {
	ServerFlag, TokenFlag string
	Getenv                func(string) string
	Euid                  int
	ReadFile              func(string) ([]byte, error)
}

// resolveTarget finds the server and the admin token (SPEC §1), each from
// the first source that has it: the flags --server/--token, the environment
// (TINYCRM_URL/TINYCRM_TOKEN), the config file `tinycrm login` wrote, then
// the local default: http://127.0.0.1:7070 and the admin.token of the
// default data dir (TINYCRM_DATA_DIR when set, as for tinycrmd).
//
// A token is never sent to a server it was not meant for: the config
// file's token is used only with the config file's server, and the local
// admin.token only with a loopback server.
func resolveTarget(s sources) (target, error) {
	var t target
	switch {
	case s.ServerFlag != "":
		t.Server, t.ServerFrom = s.ServerFlag, "--server"
	case s.Getenv("TINYCRM_URL") != "":
		t.Server, t.ServerFrom = s.Getenv("TINYCRM_URL"), "TINYCRM_URL"
	}
	switch {
	case s.TokenFlag != "":
		t.Token, t.TokenFrom = s.TokenFlag, "--token"
	case s.Getenv("TINYCRM_TOKEN") != "":
		t.Token, t.TokenFrom = s.Getenv("TINYCRM_TOKEN"), "TINYCRM_TOKEN"
	}
	if t.Server == "" || t.Token == "" {
		cf, path, err := readConfig(s.Getenv, s.ReadFile)
		if err != nil {
			return target{}, err
		}
		if cf.Server != "" {
			if t.Server == "" {
				t.Server, t.ServerFrom = cf.Server, "config file "+path
			}
			if t.Token == "" && cf.Token != "" && sameServer(t.Server, cf.Server) {
				t.Token, t.TokenFrom = cf.Token, "config file "+path
			}
		}
	}
	if t.Server == "" {
		t.Server, t.ServerFrom = client.DefaultBaseURL, "default"
	}
	norm, err := normalizeServer(t.Server)
	if err != nil {
		return target{}, serverError(t.Server, t.ServerFrom, err)
	}
	t.Server = norm
	if t.Token == "" && isLoopback(t.Server) {
		path, err := localTokenFile(s.Getenv, s.Euid)
		if err == nil {
			if b, err := s.ReadFile(path); err == nil {
				if tok := strings.TrimSpace(string(b)); tok != "" {
					t.Token, t.TokenFrom = tok, path
				}
			}
		}
	}
	t.Token = strings.TrimSpace(t.Token)
	return t, nil
}

// missingTokenError says how to get a token for server.
func missingTokenError(t target, getenv func(string) string, euid int) error {
	if isLoopback(t.Server) {
		path, err := localTokenFile(getenv, euid)
		if err != nil {
			path = "<data-dir>/admin.token"
		}
		return fmt.Errorf("no admin token for %s: none in --token, TINYCRM_TOKEN or the login config, and no %s; "+
			"start tinycrmd (it writes that file), run \"tinycrm login --server URL --token tcrm_at_…\", or try \"tinycrm demo\"", t.Server, path)
	}
	return fmt.Errorf("no admin token for %s: run \"tinycrm login --server %s --token tcrm_at_…\" or set TINYCRM_TOKEN", t.Server, t.Server)
}

// configPath is where login saves the config.
func configPath(getenv func(string) string) (string, error) {
	return dirs.ConfigFile(getenv)
}

// readConfig reads the login config; a missing file is an empty config.
func readConfig(getenv func(string) string, readFile func(string) ([]byte, error)) (configFile, string, error) {
	path, err := configPath(getenv)
	if err != nil {
		// No HOME and no XDG_CONFIG_HOME: there is no config to read.
		return configFile{}, "", nil
	}
	b, err := readFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return configFile{}, path, nil
	}
	if err != nil {
		return configFile{}, path, fmt.Errorf("read config: %w", err)
	}
	var cf configFile
	if err := json.Unmarshal(b, &cf); err != nil {
		return configFile{}, path, fmt.Errorf("config file %s is not valid JSON (%v): fix it or run \"tinycrm login\" again", path, err)
	}
	return cf, path, nil
}

// writeConfig saves the login config with mode 0600 in a 0700 directory,
// replacing the old file in one rename.
func writeConfig(path string, cf configFile) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	// MkdirAll leaves an existing directory's mode alone; ours must not be
	// readable by others since the file holds a token.
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	b, err := json.MarshalIndent(cf, "", "  ")
	if err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".config-*.json")
	if err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("save config: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	return nil
}

// localTokenFile is the admin.token of the local daemon's data dir.
func localTokenFile(getenv func(string) string, euid int) (string, error) {
	dir := getenv("TINYCRM_DATA_DIR")
	if dir == "" {
		var err error
		if dir, err = dirs.DataDir(getenv, euid); err != nil {
			return "", err
		}
	}
	return dirs.TokenFile(dir), nil
}

// normalizeServer checks a server URL and trims a trailing slash. A bare
// host:port gets http://. The error says what is wrong with it, without
// the value or advice: serverError adds them.
func normalizeServer(s string) (string, error) {
	raw := strings.TrimSpace(s)
	if !strings.Contains(raw, "://") {
		if _, port, err := net.SplitHostPort(raw); err != nil || port == "" {
			return "", errors.New("not a server URL (no http:// or https://, and no :PORT)")
		}
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "":
		return "", errors.New("not a server URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("not a server URL (the scheme must be http or https, not %s)", clip(u.Scheme))
	}
	if p := u.Port(); p != "" || strings.HasSuffix(u.Host, ":") {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("the port %q is not one from 1 to 65535", clip(p))
		}
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.Path, "/"), nil
}

// serverError says that the server URL s, from where (as in
// target.ServerFrom), is wrong: a usage error for the flag and the
// environment, a plain error for the login config (the default server is
// always right).
func serverError(s, from string, err error) error {
	switch from {
	case "--server":
		return usagef("--server %q: %v; use one like http://127.0.0.1:7070", clip(s), err)
	case "TINYCRM_URL":
		return usagef("TINYCRM_URL=%s: %v; set it to one like http://127.0.0.1:7070, or unset it", clip(s), err)
	}
	return fmt.Errorf("the server %q saved in %s: %w; run \"tinycrm login --server URL --token tcrm_at_…\" again",
		clip(s), strings.TrimPrefix(from, "config file "), err)
}

// sameServer compares two server URLs after normalizing them.
func sameServer(a, b string) bool {
	na, err1 := normalizeServer(a)
	nb, err2 := normalizeServer(b)
	return err1 == nil && err2 == nil && na == nb
}

// isLoopback reports whether a server URL names this machine.
func isLoopback(server string) bool {
	u, err := url.Parse(server)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

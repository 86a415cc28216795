package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeFS is a read-only file system for resolveTarget.
type fakeFS map[string]string

func (f fakeFS) read(path string) ([]byte, error) {
	s, ok := f[path]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return []byte(s), nil
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestResolveTarget(t *testing.T) {
	t.Parallel()
	home := map[string]string{"HOME": "/home/u"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{"HOME": "/home/u"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	const cfg = "/home/u/.config/tinycrm/config.json"
	const tok = "/home/u/.local/share/tinycrm/admin.token"
	login := fakeFS{cfg: `{"server":"https://crm.example.com/","token":"tcrm_at_login"}`}
	local := fakeFS{tok: "tcrm_at_local\n"}
	both := fakeFS{cfg: login[cfg], tok: local[tok]}
	tests := []struct {
		name                string
		flagServer, flagTok string
		env                 map[string]string
		euid                int
		files               fakeFS
		server, token       string
		serverFrom          string
		wantErr             bool
		wantUsage           bool
	}{
		{name: "local default", env: home, files: local, server: "http://127.0.0.1:7070", token: "tcrm_at_local", serverFrom: "default"},
		{name: "nothing at all", env: home, files: fakeFS{}, server: "http://127.0.0.1:7070", token: "", serverFrom: "default"},
		{name: "root's data dir", env: home, euid: 0, files: fakeFS{"/var/lib/tinycrm/admin.token": "tcrm_at_root"},
			server: "http://127.0.0.1:7070", token: "tcrm_at_root", serverFrom: "default"},
		{name: "TINYCRM_DATA_DIR", env: with(map[string]string{"TINYCRM_DATA_DIR": "/srv/crm"}), files: fakeFS{"/srv/crm/admin.token": "tcrm_at_srv"},
			server: "http://127.0.0.1:7070", token: "tcrm_at_srv", serverFrom: "default"},
		{name: "XDG_DATA_HOME", env: with(map[string]string{"XDG_DATA_HOME": "/x"}), files: fakeFS{"/x/tinycrm/admin.token": "tcrm_at_x"},
			server: "http://127.0.0.1:7070", token: "tcrm_at_x", serverFrom: "default"},
		{name: "config file beats local", env: home, files: both, server: "https://crm.example.com", token: "tcrm_at_login", serverFrom: "config file " + cfg},
		{name: "XDG_CONFIG_HOME", env: with(map[string]string{"XDG_CONFIG_HOME": "/c"}), files: fakeFS{"/c/tinycrm/config.json": `{"server":"http://10.0.0.1:7070","token":"tcrm_at_c"}`},
			server: "http://10.0.0.1:7070", token: "tcrm_at_c", serverFrom: "config file /c/tinycrm/config.json"},
		{name: "env beats config", env: with(map[string]string{"TINYCRM_URL": "http://127.0.0.1:9000", "TINYCRM_TOKEN": "tcrm_at_env"}), files: both,
			server: "http://127.0.0.1:9000", token: "tcrm_at_env", serverFrom: "TINYCRM_URL"},
		{name: "flags beat env", flagServer: "127.0.0.1:9001", flagTok: "tcrm_at_flag",
			env: with(map[string]string{"TINYCRM_URL": "http://127.0.0.1:9000", "TINYCRM_TOKEN": "tcrm_at_env"}), files: both,
			server: "http://127.0.0.1:9001", token: "tcrm_at_flag", serverFrom: "--server"},
		{name: "env server, config token of another server is not sent", env: with(map[string]string{"TINYCRM_URL": "https://other.example.com"}), files: login,
			server: "https://other.example.com", token: "", serverFrom: "TINYCRM_URL"},
		{name: "env server, config token of the same server", env: with(map[string]string{"TINYCRM_URL": "https://crm.example.com"}), files: login,
			server: "https://crm.example.com", token: "tcrm_at_login", serverFrom: "TINYCRM_URL"},
		{name: "remote server never gets the local token", flagServer: "https://crm.example.com", env: home, files: local,
			server: "https://crm.example.com", token: "", serverFrom: "--server"},
		{name: "localhost gets the local token", flagServer: "http://localhost:7070", env: home, files: local,
			server: "http://localhost:7070", token: "tcrm_at_local", serverFrom: "--server"},
		{name: "env token with default server", env: with(map[string]string{"TINYCRM_TOKEN": "tcrm_at_env"}), files: local,
			server: "http://127.0.0.1:7070", token: "tcrm_at_env", serverFrom: "default"},
		{name: "bad flag URL", flagServer: "ftp://x", env: home, files: fakeFS{}, wantErr: true, wantUsage: true},
		{name: "bad env URL", env: with(map[string]string{"TINYCRM_URL": "http://"}), files: fakeFS{}, wantErr: true, wantUsage: true},
		{name: "env URL without scheme or port", env: with(map[string]string{"TINYCRM_URL": "notaurl"}), files: fakeFS{}, wantErr: true, wantUsage: true},
		{name: "env URL with an impossible port", env: with(map[string]string{"TINYCRM_URL": "http://127.0.0.1:99999"}), files: fakeFS{}, wantErr: true, wantUsage: true},
		{name: "flag URL with port 0", flagServer: "127.0.0.1:0", env: home, files: fakeFS{}, wantErr: true, wantUsage: true},
		{name: "bad config URL", env: home, files: fakeFS{cfg: `{"server":"localhost","token":"tcrm_at_x"}`}, wantErr: true},
		{name: "bad config JSON", env: home, files: fakeFS{cfg: "{"}, wantErr: true},
		{name: "no HOME", env: map[string]string{}, files: fakeFS{}, server: "http://127.0.0.1:7070", serverFrom: "default", euid: 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			euid := tt.euid
			if euid == 0 && tt.name != "root's data dir" {
				euid = 1000
			}
			got, err := resolveTarget(sources{ServerFlag: tt.flagServer, TokenFlag: tt.flagTok, Getenv: envOf(tt.env), Euid: euid, ReadFile: tt.files.read})
			if tt.wantErr {
				_, isUsage := err.(*usageError)
				if err == nil || isUsage != tt.wantUsage {
					t.Fatalf("err = %v (usage %v), want an error (usage %v)", err, isUsage, tt.wantUsage)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Server != tt.server || got.Token != tt.token || got.ServerFrom != tt.serverFrom {
				t.Errorf("got %+v, want server %q token %q from %q", got, tt.server, tt.token, tt.serverFrom)
			}
		})
	}
}

// login checks the token, then writes the config file (0600 in a 0700
// directory), which later commands use.
func TestLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed()
	noEnv := runOpts{noEnv: true}
	r := e.runWith(noEnv, "login", "--server", e.url, "--token", "tcrm_at_wrongwrongwrong")
	if r.code != 1 || !containsAll(r.stderr, "token rejected") {
		t.Errorf("login with a bad token: %+v", r)
	}
	path := filepath.Join(e.home, ".config", "tinycrm", "config.json")
	if _, err := os.Stat(path); err == nil {
		t.Fatal("a rejected login wrote the config")
	}
	r = e.runWith(noEnv, "login", "--server", e.url+"/", "--token", e.token).ok(t)
	if !containsAll(r.stdout, "Logged in to "+e.url, "5 customers in 3 projects", path) {
		t.Errorf("login: %q", r.stdout)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("config: %v %v", st, err)
	}
	if dst, err := os.Stat(filepath.Dir(path)); err != nil || dst.Mode().Perm() != 0o700 {
		t.Errorf("config dir: %v %v", dst, err)
	}
	b, _ := os.ReadFile(path)
	var cf configFile
	if err := json.Unmarshal(b, &cf); err != nil || cf.Server != e.url || cf.Token != e.token {
		t.Errorf("config %s: %+v %v", b, cf, err)
	}
	// Later commands find the server and token there.
	r = e.runWith(noEnv, "customers", "--multi-project").ok(t)
	if len(emails(r.stdout)) != 3 {
		t.Errorf("customers after login:\n%s", r.stdout)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Bad input anywhere: exit 2 for the command line, 1 for the rest, and
// one line on stderr that says what to do; never a panic.
func TestBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.project("App A", "app-a", "#e69f00")
	if err := os.WriteFile(filepath.Join(e.home, "noemail.csv"), []byte("mail,name\na@example.com,A\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.home, "empty.csv"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	unreachable := runOpts{env: []string{"TINYCRM_URL=http://127.0.0.1:1"}}
	// A wrong token from each source the CLI reads one from.
	cfgDir := t.TempDir()
	cfgPath := filepath.Join(cfgDir, "tinycrm", "config.json")
	if err := writeConfig(cfgPath, configFile{Server: e.url, Token: "tcrm_at_wrong"}); err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	tokenPath := filepath.Join(dataDir, "admin.token")
	if err := os.WriteFile(tokenPath, []byte("tcrm_at_wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fromConfig := runOpts{noEnv: true, env: []string{"XDG_CONFIG_HOME=" + cfgDir}}
	// A server that is not TinyCRM: a static file server's HTML 404s and
	// 501s. TinyCRM answers every error with a problem+json body.
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := http.StatusNotFound
		if r.Method != http.MethodGet {
			status = http.StatusNotImplemented
		}
		w.Header().Set("Content-Type", "text/html;charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<!DOCTYPE HTML>\n<html lang=\"en\">\n<body><h1>Error response</h1><p>Error code: %d</p></body></html>\n", status)
	}))
	t.Cleanup(foreign.Close)
	notTinyCRM := foreign.URL + ` does not answer as a TinyCRM server (a 404 without a problem+json body); check --server / TINYCRM_URL`
	atForeign := runOpts{env: []string{"TINYCRM_URL=" + foreign.URL}}
	badCfgDir := t.TempDir()
	badCfgPath := filepath.Join(badCfgDir, "tinycrm", "config.json")
	if err := writeConfig(badCfgPath, configFile{Server: "notaurl", Token: "tcrm_at_x"}); err != nil {
		t.Fatal(err)
	}
	fromTokenFile := runOpts{noEnv: true, env: []string{"TINYCRM_URL=" + e.url, "TINYCRM_DATA_DIR=" + dataDir}}
	tests := []struct {
		name string
		opts runOpts
		args []string
		code int
		want string // in stderr
	}{
		{"unknown flag", runOpts{}, []string{"customers", "--bogus"}, 2, `unknown flag: --bogus (see "tinycrm customers --help")`},
		{"unknown command", runOpts{}, []string{"custmers"}, 2, `unknown command "custmers" for "tinycrm"; did you mean customers or customer?`},
		{"unknown subcommand", runOpts{}, []string{"projects", "lst"}, 2, `unknown command "lst" for "tinycrm projects"`},
		{"limit 0", runOpts{}, []string{"customers", "--limit", "0"}, 2, "--limit: must be at least 1; got 0"},
		{"limit abc", runOpts{}, []string{"customers", "--limit", "abc"}, 2, `tinycrm: --limit: "abc" is not a whole number (see "tinycrm customers --help")`},
		{"limit without a value", runOpts{}, []string{"customers", "-L"}, 2, `tinycrm: --limit needs a value (see "tinycrm customers --help")`},
		{"limit and all", runOpts{}, []string{"customers", "--limit", "5", "--all"}, 2, "use either --limit or --all"},
		{"two formats", runOpts{}, []string{"customers", "--json", "--csv"}, 2, `tinycrm: --json and --csv cannot be used together; pick one (see "tinycrm customers --help")`},
		{"three formats", runOpts{}, []string{"insights", "upsell", "--csv", "--jsonl", "--json"}, 2, `tinycrm: --json, --jsonl and --csv cannot be used together; pick one`},
		{"bad where", runOpts{}, []string{"customers", "--where", "plan ==pro"}, 2, `--where: position 7: `},
		{"bad where shows the spot", runOpts{}, []string{"customers", "--where", "mrr >= "}, 2, `(in "mrr >= ⟨here⟩")`},
		{"second where", runOpts{}, []string{"customers", "--where", "a=1", "--where", "b=="}, 2, "--where (expression 2): position 3"},
		{"bad sort", runOpts{}, []string{"customers", "--sort", "nope"}, 2, `--sort: "nope" is not a sort key`},
		{"bad age", runOpts{}, []string{"customers", "--active-within", "3x"}, 2, `--active-within: "3x" is not an age`},
		{"bad inactive", runOpts{}, []string{"export", "--inactive-for", "0d"}, 2, "--inactive-for:"},
		{"negative min-projects", runOpts{}, []string{"customers", "--min-projects", "-1"}, 2, "--min-projects"},
		{"multi-project and min-projects 1", runOpts{}, []string{"customers", "--multi-project", "--min-projects", "1"}, 2, "--multi-project means --min-projects 2"},
		{"multi-project and min-projects 0", runOpts{}, []string{"customers", "--multi-project", "--min-projects", "0"}, 2, "--multi-project means --min-projects 2"},
		{"multi-project and min-projects 0, export", runOpts{}, []string{"export", "--min-projects", "0", "--multi-project"}, 2, "--multi-project means --min-projects 2"},
		{"min-projects abc", runOpts{}, []string{"customers", "--min-projects", "abc"}, 2, `tinycrm: --min-projects: "abc" is not a whole number`},
		{"delete not a tty", runOpts{}, []string{"projects", "delete", "app-a"}, 2, "refusing to delete project app-a without --yes when stdin is not a terminal"},
		{"in and not in", runOpts{}, []string{"customers", "--project", "app-a", "--not-project", "app-a"}, 2, "--not-project:"},
		{"bad status", runOpts{}, []string{"customers", "--status", "Paid!"}, 2, "--status:"},
		{"missing arg", runOpts{}, []string{"customer"}, 2, `tinycrm customer needs EMAIL|ID (see "tinycrm customer --help")`},
		{"extra arg", runOpts{}, []string{"customers", "alice"}, 2, `tinycrm customers takes no arguments`},
		{"import without project", runOpts{}, []string{"import", "noemail.csv"}, 2, "import needs --project SLUG"},
		{"import missing file", runOpts{}, []string{"import", "missing.csv", "--project", "app-a"}, 1, "no file missing.csv"},
		{"import empty file", runOpts{}, []string{"import", "empty.csv", "--project", "app-a"}, 1, "empty.csv is empty"},
		{"import without email column", runOpts{}, []string{"import", "noemail.csv", "--project", "app-a"}, 1, "no email column in the header (it has: mail, name); name the column that holds emails with --map COLUMN=email"},
		{"import bad map", runOpts{}, []string{"import", "noemail.csv", "--project", "app-a", "--map", "mail"}, 2, "--map \"mail\": use COLUMN=FIELD"},
		{"import map of no column", runOpts{}, []string{"import", "noemail.csv", "--project", "app-a", "--map", "e=email"}, 2, `--map: no column "e"`},
		{"import unknown project", runOpts{}, []string{"import", "noemail.csv", "--project", "nope", "--map", "mail=email"}, 1, `no project "nope"`},
		{"bad param", runOpts{}, []string{"identify", "--key", "tcrm_pk_x", "--email", "a@example.com", "--param", "plan"}, 2, `--param "plan": use k=v`},
		{"bad param key", runOpts{}, []string{"identify", "--key", "tcrm_pk_x", "--email", "a@example.com", "--param", "a b=1"}, 2, "--param"},
		{"identify without key", runOpts{}, []string{"identify", "--email", "a@example.com"}, 2, "identify needs --key"},
		{"identify with admin token", runOpts{}, []string{"identify", "--key", "tcrm_at_x", "--email", "a@example.com"}, 2, "that is the admin token"},
		{"identify bad email", runOpts{}, nil, 2, "email"}, // filled in below
		{"forget not a tty", runOpts{}, []string{"forget", "alice@example.com"}, 2, "refusing to forget alice@example.com without --yes"},
		{"export bad format", runOpts{}, []string{"export", "--format", "xml"}, 2, `--format: must be csv or jsonl; got "xml"`},
		{"grace too long", runOpts{}, []string{"projects", "keys", "rotate", "app-a", "--grace", "8d"}, 2, "--grace: at most 7d"},
		{"revoke bad id", runOpts{}, []string{"projects", "keys", "revoke", "app-a", "x"}, 2, "key id must be a number"},
		{"unknown project", runOpts{}, []string{"projects", "keys", "list", "nope"}, 1, `no project "nope"; see "tinycrm projects list"`},
		{"completion shell", runOpts{}, []string{"completion", "tcsh"}, 2, `unknown shell "tcsh"`},
		{"churn idle", runOpts{}, []string{"insights", "churn-risk", "--idle", "3x"}, 2, "--idle:"},
		{"bad server flag", runOpts{}, []string{"customers", "--server", "ftp://x"}, 2, `--server "ftp://x": not a server URL (the scheme must be http or https, not ftp)`},
		{"foreign server, customer", atForeign, []string{"customer", "a@b.co"}, 1, notTinyCRM},
		{"foreign server, customers", atForeign, []string{"customers"}, 1, notTinyCRM},
		{"foreign server, create", atForeign, []string{"projects", "create", "Inkwell"}, 1, "(a 501 without a problem+json body)"},
		{"foreign server, login", runOpts{noEnv: true}, []string{"login", "--server", foreign.URL, "--token", e.token}, 1, notTinyCRM},
		{"TLS to a plain http server", runOpts{}, []string{"customers", "--server", strings.Replace(e.url, "http://", "https://", 1)}, 1,
			strings.Replace(e.url, "http://", "https://", 1) + ": TLS handshake failed; is the server plain http? try --server " + e.url},
		{"env URL without scheme or port", runOpts{env: []string{"TINYCRM_URL=notaurl"}}, []string{"customers"}, 2,
			"tinycrm: TINYCRM_URL=notaurl: not a server URL (no http:// or https://, and no :PORT); set it to one like http://127.0.0.1:7070, or unset it"},
		{"env URL with an impossible port", runOpts{env: []string{"TINYCRM_URL=http://127.0.0.1:99999"}}, []string{"customers"}, 2,
			`TINYCRM_URL=http://127.0.0.1:99999: the port "99999" is not one from 1 to 65535`},
		{"flag with an impossible port", runOpts{}, []string{"customers", "--server", "127.0.0.1:99999"}, 2, `--server "127.0.0.1:99999": the port "99999"`},
		{"login with an impossible port", runOpts{}, []string{"login", "--server", "http://127.0.0.1:99999", "--token", e.token}, 2, `--server "http://127.0.0.1:99999": the port`},
		{"bad server in the login config", runOpts{noEnv: true, env: []string{"XDG_CONFIG_HOME=" + badCfgDir}}, []string{"customers"}, 1,
			`the server "notaurl" saved in ` + badCfgPath + `: not a server URL (no http:// or https://, and no :PORT); run "tinycrm login`},
		{"login without token", runOpts{}, []string{"login", "--server", "http://127.0.0.1:7070"}, 2, "login needs --server URL and --token TOKEN"},
		{"unreachable", unreachable, []string{"customers"}, 1,
			`tinycrm: cannot reach http://127.0.0.1:1: is tinycrmd running? start it with "tinycrmd" or try "tinycrm demo"`},
		{"unreachable import", unreachable, []string{"import", "noemail.csv", "--project", "app-a", "--map", "mail=email"}, 1, "cannot reach http://127.0.0.1:1"},
		{"bad token", runOpts{env: []string{"TINYCRM_TOKEN=tcrm_at_wrong"}}, []string{"projects", "list"}, 1,
			`token rejected by ` + e.url + `: the token in TINYCRM_TOKEN is not an admin token of this server; set TINYCRM_TOKEN to its admin token (tcrm_at_…), or unset it`},
		{"bad token flag", runOpts{}, []string{"projects", "list", "--token", "tcrm_at_wrong"}, 1,
			`token rejected by ` + e.url + `: the --token value is not an admin token of this server`},
		{"bad token in the login config", fromConfig, []string{"projects", "list"}, 1,
			`token rejected by ` + e.url + `: the token saved in ` + cfgPath + ` is not an admin token of this server (revoked, or another server's); run "tinycrm login --server ` + e.url + ` --token tcrm_at_…"`},
		{"bad token in admin.token", fromTokenFile, []string{"projects", "list"}, 1,
			`token rejected by ` + e.url + `: the token in ` + tokenPath + ` is not this server's admin token`},
		{"no token", runOpts{noEnv: true, env: []string{"TINYCRM_URL=http://127.0.0.1:1", "TINYCRM_DATA_DIR=/nonexistent"}}, []string{"customers"}, 1,
			"no admin token for http://127.0.0.1:1"},
	}
	for _, tt := range tests {
		if tt.name == "identify bad email" {
			key, err := e.admin.CreateKey(t.Context(), "app-a")
			if err != nil {
				t.Fatal(err)
			}
			tt.args = []string{"identify", "--key", key.Secret, "--email", "not-an-email"}
		}
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := e.runWith(tt.opts, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, tt.code, tt.want)
			}
			if !strings.HasPrefix(r.stderr, "tinycrm: ") || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("stderr is not one line starting with tinycrm: %q", r.stderr)
			}
			if strings.Contains(r.stderr+r.stdout, "panic") || strings.Contains(r.stderr+r.stdout, "goroutine") {
				t.Errorf("panic:\n%s", r.stderr)
			}
		})
	}
}

// Help is not an error.
func TestHelp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, args := range [][]string{{}, {"--help"}, {"projects"}, {"projects", "keys"}, {"insights"}, {"customers", "--help"}, {"--version"}} {
		r := e.run(args...).ok(t)
		if r.stdout == "" || r.stderr != "" {
			t.Errorf("%v: stdout %q stderr %q", args, r.stdout, r.stderr)
		}
	}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		r := e.run("completion", sh).ok(t)
		if !strings.Contains(r.stdout, "tinycrm") {
			t.Errorf("completion %s: %q", sh, r.stdout[:min(len(r.stdout), 200)])
		}
	}
}

// Only stdout's EPIPE is a quiet success; a connection to the server that
// broke is an error like any other.
func TestExitCodeEPIPE(t *testing.T) {
	t.Parallel()
	if code, msg := exitCode(fmt.Errorf("print: %w", errStdoutClosed), "", ""); code != exitOK || msg != "" {
		t.Errorf("stdout closed: %d %q, want 0 and nothing", code, msg)
	}
	net := &url.Error{Op: "Post", URL: "http://127.0.0.1:7070/v1/batch", Err: &os.SyscallError{Syscall: "write", Err: syscall.EPIPE}}
	if code, msg := exitCode(net, "http://127.0.0.1:7070", ""); code != exitError || msg == "" {
		t.Errorf("broken connection: %d %q, want exit 1 and a message", code, msg)
	}
}

// User input echoed in an error is cut short.
func TestLongInputIsClipped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.project("App A", "app-a", "#e69f00")
	long := strings.Repeat("a", 20000) + "@example.com"
	for _, args := range [][]string{
		{"customer", long},
		{"forget", long},
		{"forget", long, "--yes"},
		{"customers", long},
		{"projects", "keys", "list", long},
		{"customers", "--where", "plan=" + strings.Repeat("x", 20000) + " &&"},
	} {
		r := e.run(args...)
		if r.code == 0 || len(r.stderr) > 600 || !strings.Contains(r.stderr, "…") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%s …: exit %d, %d bytes of stderr: %.300q", args[0], r.code, len(r.stderr), r.stderr)
		}
	}
	if got := clip(strings.Repeat("é", 100)); got != strings.Repeat("é", 64)+"…" {
		t.Errorf("clip: %q", got)
	}
}

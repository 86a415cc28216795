package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/filter"
)

// TestTUICommand checks `tinycrm tui`'s flags without opening the TUI:
// the shared filter flags become the initial filter, the client talks to
// the resolved server, and without a terminal it refuses with a hint.
// TestEndToEnd in package tui runs the real thing in tmux.
func TestTUICommand(t *testing.T) {
	t.Parallel()
	mrr, err := filter.ParseWhere("mrr>=9")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		args    []string
		tty     bool
		want    filter.Filter
		wantErr string
	}{
		{name: "no filters", tty: true},
		{name: "filters", tty: true,
			args: []string{"--project", "app-a", "--multi-project", "--status", "paid", "--where", "mrr>=9", "--search", "alice", "--sort", "-mrr"},
			want: filter.Filter{Projects: []string{"app-a"}, MinProjects: 2, Statuses: []string{"paid"}, Where: []filter.Expr{mrr},
				Search: "alice", Sort: filter.Sort{Key: filter.SortMRR, Reverse: true}}},
		{name: "bad where", tty: true, args: []string{"--where", "plan ==pro"}, wantErr: "position 7"},
		{name: "not a terminal", args: []string{"--multi-project"}, wantErr: "needs a terminal"},
		{name: "arguments", tty: true, args: []string{"alice"}, wantErr: "takes no arguments"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"TINYCRM_URL": "http://crm.test:7070", "TINYCRM_TOKEN": "tcrm_at_test"}
			var out bytes.Buffer
			app := &App{In: strings.NewReader(""), Out: &out, ErrOut: &out, InTTY: tc.tty, OutTTY: tc.tty,
				Getenv: func(k string) string { return env[k] }, Euid: 1000,
				ReadFile: func(string) ([]byte, error) { return nil, os.ErrNotExist }}
			var got *filter.Filter
			var server string
			cmd := newTUICmd(app, func(_ context.Context, c *client.Client, f filter.Filter) error {
				got, server = &f, c.BaseURL()
				return nil
			})
			cmd.SetArgs(tc.args)
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			err := cmd.Execute()
			if tc.wantErr != "" {
				var ue *usageError
				if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want a usage error with %q", err, tc.wantErr)
				}
				if got != nil {
					t.Fatal("the TUI opened despite the error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got == nil || !reflect.DeepEqual(*got, tc.want) {
				t.Fatalf("opened with %+v, want %+v", got, tc.want)
			}
			if server != "http://crm.test:7070" {
				t.Fatalf("client of %q", server)
			}
		})
	}
}

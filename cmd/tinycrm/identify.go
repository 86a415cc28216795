package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/filter"
)

type identifyOptions struct {
	app       *App
	key       string
	email     string
	name      string
	status    string
	params    []string
	timestamp string
	messageID string
}

func newIdentifyCmd(app *App) *cobra.Command {
	o := &identifyOptions{app: app}
	cmd := &cobra.Command{
		Use:   "identify --key KEY --email EMAIL [--name N] [--status S] [--param k=v]...",
		Short: "Send one identify with a project key (to test an integration)",
		Long: `Send one identify call with a project key, as your app would: who the person is
in that key's project now. Useful to check an integration end to end.

--param k=v is typed like JSON: a number (9, 19.5, -1, 1e3) is a number,
true/false a boolean, a value in double quotes ("007") a string as written, and
anything else a string. "k=" (empty) sends null, which deletes k from the stored
params. Repeat --param for several.`,
		Example: `  tinycrm identify --key tcrm_pk_… --email alice@example.com --name "Alice Chen" \
    --status paid --param plan=pro --param mrr=9
  tinycrm identify --key tcrm_pk_… --email alice@example.com --param trial_ends=`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runIdentify(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.key, "key", "", "project key tcrm_pk_… (required)")
	fl.StringVar(&o.email, "email", "", "the person's email (required)")
	fl.StringVar(&o.name, "name", "", "the person's name")
	fl.StringVar(&o.status, "status", "", "status in this project: paid, trialing, free, churned, …")
	fl.StringArrayVar(&o.params, "param", nil, "param `k=v` (typed; \"k=\" deletes k); repeatable")
	fl.StringVar(&o.timestamp, "timestamp", "", "when this was true, RFC 3339 (default: now)")
	fl.StringVar(&o.messageID, "message-id", "", "idempotency id: the same id is applied once")
	return cmd
}

// isJSONNumber reports whether s is a number in JSON's syntax, nothing
// around it; "007" is not one, so zip codes and ids with leading zeros stay
// strings. What starts with '-' or a digit and is valid JSON is a number.
func isJSONNumber(s string) bool {
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	return s != "" && (s[0] == '-' || isDigit(s[0])) && isDigit(s[len(s)-1]) && json.Valid([]byte(s))
}

// scalar types a text value: a JSON number, true/false, else the text.
func scalar(s string) any {
	switch {
	case s == "true":
		return true
	case s == "false":
		return false
	case isJSONNumber(s):
		return json.Number(s)
	}
	return s
}

// parseParams reads --param values.
func parseParams(vals []string) (map[string]any, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	out := map[string]any{}
	for _, kv := range vals {
		k, v, ok := strings.Cut(kv, "=")
		switch {
		case !ok:
			return nil, usagef("--param %q: use k=v, such as plan=pro or mrr=9", clip(kv))
		case !filter.IsParamKey(k):
			return nil, usagef("--param %q: the key must be 1-64 letters, digits, \"_\", \".\" or \"-\"", clip(kv))
		case v == "":
			out[k] = nil
		case len(v) >= 2 && strings.HasPrefix(v, `"`) && strings.HasSuffix(v, `"`):
			out[k] = v[1 : len(v)-1]
		default:
			out[k] = scalar(v)
		}
	}
	return out, nil
}

func runIdentify(ctx context.Context, o *identifyOptions) error {
	switch {
	case o.key == "":
		return usagef("identify needs --key tcrm_pk_… (the project key from \"tinycrm projects create\" or \"keys create\")")
	case strings.HasPrefix(o.key, "tcrm_at_"):
		return usagef("--key: that is the admin token; identify is sent with a project key (tcrm_pk_…)")
	case o.email == "":
		return usagef("identify needs --email")
	}
	params, err := parseParams(o.params)
	if err != nil {
		return err
	}
	id := client.Identify{Email: o.email, Name: o.name, Status: o.status, Params: params, MessageID: o.messageID}
	if o.timestamp != "" {
		if id.Timestamp, err = time.Parse(time.RFC3339Nano, o.timestamp); err != nil {
			return usagef("--timestamp: %q is not an RFC 3339 time like 2026-03-29T10:00:00Z", clip(o.timestamp))
		}
	}
	t, err := o.app.Target()
	if err != nil {
		return err
	}
	res, err := o.app.newClient(t.Server, o.key).Identify(ctx, id)
	if err != nil {
		if client.IsUnauthorized(err) {
			return fmt.Errorf("%s refused the project key: it is mistyped, revoked or expired; see \"tinycrm projects keys list SLUG\"", t.Server)
		}
		return err
	}
	word := "ok"
	switch {
	case res.Suppressed:
		word = "suppressed"
	case res.Duplicate:
		word = "duplicate"
	}
	if !o.app.OutTTY {
		printf(o.app.Out, "%s\n", word)
		return nil
	}
	th := o.app.Theme
	switch word {
	case "suppressed":
		printf(o.app.Out, "%s\n", th.Warn("dropped: "+o.email+" was forgotten with --suppress"))
	case "duplicate":
		printf(o.app.Out, "%s\n", th.Dim("duplicate: this message id was applied before; nothing changed"))
	default:
		printf(o.app.Out, "%s %s\n", th.Good("✓"), "identified "+o.email+"; see it with \"tinycrm customer "+shellQuote(o.email)+"\"")
	}
	return nil
}

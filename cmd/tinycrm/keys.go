package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/filter"
	"tinycrm.dev/tinycrm/internal/render"
)

// maxGrace is the longest grace period a rotation may give (SPEC §2).
const maxGrace = 7 * 24 * time.Hour

func newKeysCmd(app *App) *cobra.Command {
	cmd := groupCmd("keys", "List, create, rotate and revoke a project's keys", "key")
	cmd.AddCommand(newKeyListCmd(app), newKeyCreateCmd(app), newKeyRotateCmd(app), newKeyRevokeCmd(app))
	return cmd
}

type keyListOptions struct {
	app  *App
	slug string
	out  outputFlags
}

func newKeyListCmd(app *App) *cobra.Command {
	o := &keyListOptions{app: app}
	cmd := &cobra.Command{
		Use:     "list SLUG",
		Aliases: []string{"ls"},
		Short:   "List a project's keys (their last characters only), newest first",
		Long: `List a project's keys, newest first: id, the key's last four characters (…pxvv:
compare them with the end of the key in your app's config), when it was made and
its state (active, expires in …, expired, revoked). Secrets are never shown again.`,
		Args: exactArgs("SLUG"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.slug = args[0]
			return runKeyList(cmd.Context(), o)
		},
	}
	addOutputFlags(cmd, &o.out, false)
	return cmd
}

// keyState says whether a key works.
func keyState(k client.Key, now time.Time) string {
	switch {
	case k.RevokedAt != nil:
		return "revoked"
	case k.ExpiresAt != nil && !k.ExpiresAt.After(now):
		return "expired"
	case k.ExpiresAt != nil:
		return "expires " + render.RelTime(now, *k.ExpiresAt)
	}
	return "active"
}

func runKeyList(ctx context.Context, o *keyListOptions) error {
	c, err := o.app.Client()
	if err != nil {
		return err
	}
	keys, err := c.Keys(ctx, o.slug)
	if err != nil {
		return projectError(o.slug, err)
	}
	app, now := o.app, o.app.Now()
	if o.out.json {
		if keys == nil {
			keys = []client.Key{}
		}
		return printJSON(app, keys)
	}
	if !app.OutTTY {
		for _, k := range keys {
			exp := ""
			if k.ExpiresAt != nil {
				exp = rfc3339(*k.ExpiresAt)
			}
			state := keyState(k, now)
			if len(state) > 8 && state[:8] == "expires " {
				state = "expiring"
			}
			printf(app.Out, "%s", render.TSV(strconv.FormatInt(k.ID, 10), "…"+k.Hint, rfc3339(k.CreatedAt), exp, state))
		}
		return nil
	}
	th := app.Theme
	t := render.NewTable([]render.Column{{Title: "ID", Right: true}, {Title: "KEY"}, {Title: "CREATED"}, {Title: "STATE"}})
	for _, k := range keys {
		state := keyState(k, now)
		switch {
		case state == "active":
			state = th.Good(state)
		case state == "revoked" || state == "expired":
			state = th.Dim(state)
		default:
			state = th.Warn(state)
		}
		t.AddRow([]string{strconv.FormatInt(k.ID, 10), "…" + k.Hint, th.Since(k.CreatedAt), state})
	}
	return t.Render(app.Out, th)
}

type keyCreateOptions struct {
	app    *App
	slug   string
	rotate bool
	grace  string
	out    outputFlags
}

func newKeyCreateCmd(app *App) *cobra.Command {
	o := &keyCreateOptions{app: app}
	cmd := &cobra.Command{
		Use:   "create SLUG",
		Short: "Add a key to a project (the others stay valid); prints it once",
		Args:  exactArgs("SLUG"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.slug = args[0]
			return runKeyCreate(cmd.Context(), o)
		},
	}
	addOutputFlags(cmd, &o.out, false)
	return cmd
}

func newKeyRotateCmd(app *App) *cobra.Command {
	o := &keyCreateOptions{app: app, rotate: true}
	cmd := &cobra.Command{
		Use:   "rotate SLUG [--grace 24h]",
		Short: "Make a new key and let the old ones expire after a grace period",
		Long: `Make a new project key and let every older key of the project expire after the
grace period (default 24h, at most 7d; 0 ends them now), so you can deploy the new
key before the old one stops working. Prints the new key once.`,
		Example: `  tinycrm projects keys rotate inkwell
  tinycrm projects keys rotate inkwell --grace 2h`,
		Args: exactArgs("SLUG"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.slug = args[0]
			return runKeyCreate(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVar(&o.grace, "grace", "24h", "how long the old keys stay valid: such as 2h, 3d; 0 ends them now; at most 7d")
	addOutputFlags(cmd, &o.out, false)
	return cmd
}

// parseGrace reads --grace: an age up to 7d, or 0.
func parseGrace(s string) (time.Duration, error) {
	if s == "0" || s == "0s" {
		return 0, nil
	}
	d, err := filter.ParseAge(s)
	if err != nil {
		return 0, usagef("--grace: %v", err)
	}
	if d > maxGrace {
		return 0, usagef("--grace: at most 7d; got %s", s)
	}
	return d, nil
}

func runKeyCreate(ctx context.Context, o *keyCreateOptions) error {
	var grace time.Duration
	if o.rotate {
		var err error
		if grace, err = parseGrace(o.grace); err != nil {
			return err
		}
	}
	c, err := o.app.Client()
	if err != nil {
		return err
	}
	var k client.Key
	if o.rotate {
		k, err = c.RotateKey(ctx, o.slug, grace)
	} else {
		k, err = c.CreateKey(ctx, o.slug)
	}
	if err != nil {
		return projectError(o.slug, err)
	}
	app := o.app
	switch {
	case o.out.json:
		return printJSON(app, k)
	case !app.OutTTY:
		printf(app.Out, "%s\n", k.Secret)
		return nil
	}
	th := app.Theme
	printf(app.Out, "New key for %s, shown this once (keep it in your app's secrets):\n\n  %s\n\n", o.slug, th.Bold(k.Secret))
	switch {
	case o.rotate && grace == 0:
		printf(app.Out, "%s\n", th.Warn("The project's older keys stopped working now."))
	case o.rotate:
		printf(app.Out, "%s\n", th.Dim(fmt.Sprintf("The older keys keep working for %s: deploy the new key before then.", filter.FormatAge(grace))))
	default:
		printf(app.Out, "%s\n", th.Dim("The project's other keys stay valid; revoke one with \"tinycrm projects keys revoke "+o.slug+" ID\"."))
	}
	return nil
}

type keyRevokeOptions struct {
	app  *App
	slug string
	id   int64
}

func newKeyRevokeCmd(app *App) *cobra.Command {
	o := &keyRevokeOptions{app: app}
	return &cobra.Command{
		Use:   "revoke SLUG ID",
		Short: "End one key of a project now (ids from \"keys list\")",
		Args:  exactArgs("SLUG", "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.slug = args[0]
			id, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil || id < 1 {
				return usagef("key id must be a number from \"tinycrm projects keys list %s\"; got %q", o.slug, clip(args[1]))
			}
			o.id = id
			return runKeyRevoke(cmd.Context(), o)
		},
	}
}

func runKeyRevoke(ctx context.Context, o *keyRevokeOptions) error {
	c, err := o.app.Client()
	if err != nil {
		return err
	}
	if err := c.RevokeKey(ctx, o.slug, o.id); err != nil {
		if client.IsNotFound(err) {
			return fmt.Errorf("no key %d in project %q; see \"tinycrm projects keys list %s\"", o.id, o.slug, o.slug)
		}
		return err
	}
	printf(o.app.Out, "Revoked key %d of %s\n", o.id, o.slug)
	return nil
}

package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"tinycrm.dev/tinycrm/client"
)

type forgetOptions struct {
	app      *App
	key      string
	project  string
	suppress bool
	yes      bool
}

func newForgetCmd(app *App) *cobra.Command {
	o := &forgetOptions{app: app}
	cmd := &cobra.Command{
		Use:   "forget EMAIL|ID",
		Short: "Erase a customer everywhere, or unlink them from one project",
		Long: `Erase a customer (GDPR "right to be forgotten"): their memberships, params and
timeline in every project, and the person. With --project, only unlink them
from that project. With --suppress, later identifies of the email are dropped
too, and only a keyed hash of it is kept for that.

Asks for confirmation on a terminal; without one (scripts) --yes is required.`,
		Example: `  tinycrm forget alice@example.com
  tinycrm forget alice@example.com --project app-b --yes
  tinycrm forget alice@example.com --suppress --yes`,
		Args: exactArgs("EMAIL|ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.key = args[0]
			if o.suppress && o.project != "" {
				return usagef("--suppress applies to every project; use it without --project, or unlink from %s without --suppress", clip(o.project))
			}
			if !o.yes && !o.app.InTTY {
				return usagef("refusing to forget %s without --yes when stdin is not a terminal", clip(o.key))
			}
			return runForget(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVar(&o.project, "project", "", "only unlink the customer from this project (slug)")
	cmd.Flags().BoolVar(&o.suppress, "suppress", false, "also drop later identifies of this email")
	cmd.Flags().BoolVarP(&o.yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

func runForget(ctx context.Context, o *forgetOptions) error {
	c, err := o.app.Client()
	if err != nil {
		return err
	}
	if !o.yes {
		what := "Erase " + o.key + " from every project, with their timeline"
		if o.project != "" {
			what = "Unlink " + o.key + " from " + o.project
		}
		if o.suppress {
			what += ", and drop their future identifies"
		}
		ok, err := confirm(o.app, what+"?")
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("not forgotten: cancelled")
		}
	}
	res, err := c.Forget(ctx, o.key, client.ForgetOptions{Project: o.project, Suppress: o.suppress})
	if client.IsNotFound(err) {
		return fmt.Errorf("no customer %q in %s; nothing to forget", clip(o.key), orAll(clip(o.project)))
	}
	if err != nil {
		return err
	}
	var msg string
	switch {
	case o.project != "" && res.CustomerDeleted:
		msg = "unlinked " + o.key + " from " + o.project + "; it was their last project, so they are gone"
	case o.project != "":
		msg = "unlinked " + o.key + " from " + o.project
	case res.Deleted:
		msg = "forgot " + o.key
	default:
		msg = o.key + " was not a customer"
	}
	if res.Suppressed {
		msg += "; later identifies of this email will be dropped"
	}
	printf(o.app.Out, "%s\n", msg)
	return nil
}

func orAll(project string) string {
	if project == "" {
		return "any project"
	}
	return "project " + project
}

// confirm asks a yes/no question on stderr and reads the answer from
// stdin; only "y" or "yes" is yes.
func confirm(app *App, question string) (bool, error) {
	printf(app.ErrOut, "%s [y/N] ", question)
	line, err := bufio.NewReader(app.In).ReadString('\n')
	if err != nil && line == "" {
		printf(app.ErrOut, "\n")
		return false, nil
	}
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}

package main

import (
	"context"

	"github.com/spf13/cobra"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/filter"
	"tinycrm.dev/tinycrm/internal/render"
	"tinycrm.dev/tinycrm/tui"
)

// tuiExtension adds `tinycrm tui [filters]` and sets App.OpenTUI, which
// `tinycrm demo` uses to open the TUI on its sample data. main passes it to
// newRootCmd.
func tuiExtension(app *App, root *cobra.Command) {
	app.OpenTUI = func(ctx context.Context, c *client.Client, f filter.Filter) error {
		return tui.Run(ctx, c, f, tuiOptions(app, c))
	}
	cmd := newTUICmd(app, nil)
	cmd.GroupID = "customers"
	root.AddCommand(cmd)
}

type tuiCmdOptions struct {
	app     *App
	filters filterFlags
}

// newTUICmd builds `tinycrm tui`. runF, when not nil, replaces opening the
// TUI, so tests can check the flags alone (as gh's commands do).
func newTUICmd(app *App, runF func(ctx context.Context, c *client.Client, f filter.Filter) error) *cobra.Command {
	o := &tuiCmdOptions{app: app}
	cmd := &cobra.Command{
		Use:   "tui [filters]",
		Short: "Browse customers interactively",
		Long: `Open the interactive customer table: the workspace's counts, the active filter,
customers with their project badges, and one key per action.

The filter flags (the same as "tinycrm customers") give the filter it starts
with; change it inside with / (search), p (projects), m (2+ projects),
s (status), w (where-expression) and o (sort). enter opens a customer, e exports
the current view, r refreshes (it also refreshes every few seconds), ? shows
every key, q quits. NO_COLOR turns colours off.`,
		Example: `  tinycrm tui
  tinycrm tui --multi-project --sort mrr   # biggest MRR first
  tinycrm tui --project app-a --status trialing`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := o.filters.Filter()
			if err != nil {
				return err
			}
			if !app.InTTY || !app.OutTTY {
				return usagef("tinycrm tui needs a terminal; for scripts use \"tinycrm customers\" (--json, --csv) or \"tinycrm export\"")
			}
			c, err := app.Client()
			if err != nil {
				return err
			}
			run := runF
			if run == nil {
				run = app.OpenTUI
			}
			return run(cmd.Context(), c, f)
		},
	}
	addFilterFlags(cmd, &o.filters)
	return cmd
}

// tuiOptions are the TUI's settings for this run: the server for its
// messages, colour as the CLI decides it, and the raw terminal streams
// (Bubble Tea detects and downsamples colours itself).
func tuiOptions(app *App, c *client.Client) tui.Options {
	out := app.Out
	if app.rawOut != nil {
		out = app.rawOut
	}
	return tui.Options{
		Server:  c.BaseURL(),
		NoColor: !render.ColorEnabled(app.Getenv, true),
		Now:     app.Now,
		Input:   app.In,
		Output:  out,
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/internal/render"
)

func newProjectsCmd(app *App) *cobra.Command {
	cmd := groupCmd("projects", "Manage projects (your products) and their keys", "project")
	cmd.AddCommand(newProjectListCmd(app), newProjectCreateCmd(app), newProjectRenameCmd(app),
		newProjectDeleteCmd(app), newKeysCmd(app))
	return cmd
}

type projectListOptions struct {
	app *App
	out outputFlags
}

func newProjectListCmd(app *App) *cobra.Command {
	o := &projectListOptions{app: app}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List projects with customers, last ingest and identifies in 24 h",
		Long: `List projects: badge, slug, customers, when the last identify arrived and how
many arrived in the last 24 hours. A project that has received identifies before
but none in the last 24 hours is flagged: its app may have stopped calling identify.

Piped: tab-separated slug, name, colour, customers, last ingest (RFC 3339, empty
if never), identifies in 24 h, and "silent" for a flagged project.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runProjectList(cmd.Context(), o)
		},
	}
	addOutputFlags(cmd, &o.out, false)
	return cmd
}

// silentSince reports whether a project that used to receive identifies got
// none in the last 24 h, and since when.
func silentSince(p client.Project, now time.Time) (time.Time, bool) {
	if p.LastIngest == nil || p.Identifies24h > 0 || now.Sub(*p.LastIngest) < 24*time.Hour {
		return time.Time{}, false
	}
	return *p.LastIngest, true
}

func runProjectList(ctx context.Context, o *projectListOptions) error {
	c, err := o.app.Client()
	if err != nil {
		return err
	}
	ps, err := c.Projects(ctx)
	if err != nil {
		return err
	}
	app, now := o.app, o.app.Now()
	if o.out.json {
		if ps == nil {
			ps = []client.Project{}
		}
		return printJSON(app, ps)
	}
	if !app.OutTTY {
		for _, p := range ps {
			last := ""
			if p.LastIngest != nil {
				last = rfc3339(*p.LastIngest)
			}
			state := ""
			if _, silent := silentSince(p, now); silent {
				state = "silent"
			}
			printf(app.Out, "%s", render.TSV(p.Slug, p.Name, p.Color, strconv.FormatInt(p.Customers, 10), last,
				strconv.FormatInt(p.Identifies24h, 10), state))
		}
		return nil
	}
	if len(ps) == 0 {
		printf(app.ErrOut, "no projects yet; create one with \"tinycrm projects create NAME\"\n")
		return nil
	}
	th := app.Theme
	// On a narrow terminal the note, the slug and the name give way, in
	// that order, so the numbers stay in view; the minimums keep the start
	// of each ("! silent for 3d…") and fit 80 columns with the longest name
	// and slug.
	t := render.NewTable([]render.Column{
		{Title: "PROJECT", Shrink: true, Min: 12}, {Title: "SLUG", Shrink: true, Min: 18}, {Title: "CUSTOMERS", Right: true},
		{Title: "LAST INGEST"}, {Title: "24H", Right: true}, {Title: "", Shrink: true, Min: 17},
	})
	t.Width = app.TermWidth
	for _, p := range ps {
		last := th.Dim("never")
		if p.LastIngest != nil {
			last = th.Since(*p.LastIngest)
		}
		note := ""
		if since, silent := silentSince(p, now); silent {
			note = th.Warn("! silent for " + untilNow(since, now) + ": is the app still calling identify?")
			last = th.Warn(last)
		}
		badge := []client.Membership{{Name: p.Name, Color: p.Color}}
		t.AddCells([]render.Cell{
			{Text: th.Badge(p.Name, p.Color), Fit: func(width int) string { return th.BadgesFit(badge, width) }},
			{Text: p.Slug}, {Text: render.Count(p.Customers)}, {Text: last}, {Text: render.Count(p.Identifies24h)}, {Text: note},
		})
	}
	return t.Render(app.Out, th)
}

// untilNow renders the length of time from t to now: "9d".
func untilNow(t, now time.Time) string {
	s := render.RelTime(now, t)
	if len(s) > 4 && s[len(s)-4:] == " ago" {
		return s[:len(s)-4]
	}
	return s
}

// projectError explains a project that is not there.
func projectError(slug string, err error) error {
	if client.IsNotFound(err) {
		return fmt.Errorf("no project %q; see \"tinycrm projects list\"", clip(slug))
	}
	if errors.Is(err, client.ErrUnknownOutcome) {
		return fmt.Errorf("%w; check with \"tinycrm projects list\" before trying again", err)
	}
	return err
}

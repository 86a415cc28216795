package main

import (
	"context"
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/internal/render"
)

type projectRenameOptions struct {
	app        *App
	slug, name string
}

func newProjectRenameCmd(app *App) *cobra.Command {
	o := &projectRenameOptions{app: app}
	return &cobra.Command{
		Use:     "rename SLUG NAME",
		Short:   "Give a project a new name (its slug stays)",
		Long:    `Give a project a new name of 1-64 characters; its slug, keys and customers stay.`,
		Example: `  tinycrm projects rename app-a "Inkwell Pro"`,
		Args:    exactArgs("SLUG", "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.slug, o.name = args[0], args[1]
			return runProjectRename(cmd.Context(), o)
		},
	}
}

func runProjectRename(ctx context.Context, o *projectRenameOptions) error {
	c, err := o.app.Client()
	if err != nil {
		return err
	}
	p, err := c.RenameProject(ctx, o.slug, o.name)
	if err != nil {
		return projectError(o.slug, flagErr(err, map[string]string{"name": "NAME"}))
	}
	printf(o.app.Out, "Renamed %s to %s\n", p.Slug, o.app.Theme.Badge(render.Sanitize(p.Name), p.Color))
	return nil
}

// flagErr turns the server's 400 about a field into a usage error named
// after the flag or argument the user typed for it: {"color": "--color"}.
func flagErr(err error, names map[string]string) error {
	var ae *client.APIError
	if !errors.As(err, &ae) || !badRequest(err) {
		return err
	}
	name, ok := names[ae.Field]
	if !ok {
		return err
	}
	detail := ae.Detail
	if detail == "" {
		detail = "is not valid"
	}
	return usagef("%s: %s", name, clipLong(oneLine(strings.TrimPrefix(detail, ae.Field+": "))))
}

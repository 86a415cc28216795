package main

import (
	"context"

	"github.com/spf13/cobra"

	"tinycrm.dev/tinycrm/internal/render"
)

type projectRenameOptions struct {
	app        *App
	slug, name string
}

func newProjectRenameCmd(app *App) *cobra.Command {
	o := &projectRenameOptions{app: app}
	return &cobra.Command{
		Use:   "rename SLUG NAME",
		Short: "Give a project a new name (its slug stays)",
		Args:  exactArgs("SLUG", "NAME"),
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
		return projectError(o.slug, err)
	}
	printf(o.app.Out, "Renamed %s to %s\n", p.Slug, o.app.Theme.Badge(render.Sanitize(p.Name), p.Color))
	return nil
}

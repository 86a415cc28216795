package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

type projectDeleteOptions struct {
	app  *App
	slug string
	yes  bool
}

func newProjectDeleteCmd(app *App) *cobra.Command {
	o := &projectDeleteOptions{app: app}
	cmd := &cobra.Command{
		Use:   "delete SLUG",
		Short: "Delete a project with its keys, memberships and timeline",
		Long: `Delete a project with its keys, memberships and timeline events; customers left
in no project are deleted too. Asks for confirmation on a terminal; without one
(scripts) --yes is required.`,
		Example: `  tinycrm projects delete app-a
  tinycrm projects delete app-a --yes`,
		Args: exactArgs("SLUG"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.slug = args[0]
			if !o.yes && !o.app.InTTY {
				return usagef("refusing to delete project %s without --yes when stdin is not a terminal", clip(o.slug))
			}
			return runProjectDelete(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVarP(&o.yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

func runProjectDelete(ctx context.Context, o *projectDeleteOptions) error {
	c, err := o.app.Client()
	if err != nil {
		return err
	}
	p, err := c.Project(ctx, o.slug)
	if err != nil {
		return projectError(o.slug, err)
	}
	if !o.yes {
		ok, err := confirm(o.app, fmt.Sprintf("Delete project %s with its %d customers' memberships and timeline?", p.Slug, p.Customers))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("project %s not deleted: cancelled", p.Slug)
		}
	}
	if err := c.DeleteProject(ctx, o.slug); err != nil {
		return projectError(o.slug, err)
	}
	printf(o.app.Out, "Deleted project %s\n", o.slug)
	return nil
}

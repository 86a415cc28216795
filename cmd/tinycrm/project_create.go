package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/internal/render"
)

type projectCreateOptions struct {
	app   *App
	name  string
	slug  string
	color string
	out   outputFlags
}

func newProjectCreateCmd(app *App) *cobra.Command {
	o := &projectCreateOptions{app: app}
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a project and print its first key (shown once)",
		Long: `Create a project (one of your products) and print its first project key. The key
is write-only (it can send identifies, read nothing) and is shown this once.

The slug is derived from the name unless --slug is given; the colour of its badge
is picked from a palette unless --color is given. Piped, only the key is printed,
so KEY=$(tinycrm projects create "App A") works.`,
		Example: `  tinycrm projects create "Inkwell"
  tinycrm projects create "Link Page" --slug linkpage --color "#e69f00"`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			return runProjectCreate(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVar(&o.slug, "slug", "", "the project's slug (a-z, 0-9, -; default: from the name)")
	cmd.Flags().StringVar(&o.color, "color", "", "badge colour as hex, such as #3b82f6 (default: from the palette)")
	addOutputFlags(cmd, &o.out, false)
	return cmd
}

func runProjectCreate(ctx context.Context, o *projectCreateOptions) error {
	c, err := o.app.Client()
	if err != nil {
		return err
	}
	p, err := c.CreateProject(ctx, client.NewProject{Name: o.name, Slug: o.slug, Color: o.color})
	if client.IsConflict(err) {
		return fmt.Errorf("a project with that slug exists already; pick another with --slug (see \"tinycrm projects list\")")
	}
	if err != nil {
		return projectError(o.slug, flagErr(err, map[string]string{"name": "NAME", "slug": "--slug", "color": "--color"}))
	}
	app := o.app
	switch {
	case o.out.json:
		return printJSON(app, p)
	case !app.OutTTY:
		printf(app.Out, "%s\n", p.Key)
	default:
		th := app.Theme
		printf(app.Out, "Created project %s (slug %s)\n\n", th.Badge(render.Sanitize(p.Name), p.Color), p.Slug)
		printf(app.Out, "Project key, shown this once (keep it in your app's secrets):\n\n  %s\n\n", th.Bold(p.Key))
		printf(app.Out, "%s\n", th.Dim("Send a test identify: tinycrm identify --key "+p.Key+" --email you@example.com --status free"))
	}
	return nil
}

package main

import (
	"context"
	"strings"

	"github.com/spf13/cobra"
)

type loginOptions struct {
	app    *App
	server string
	token  string
}

func newLoginCmd(app *App) *cobra.Command {
	o := &loginOptions{app: app}
	cmd := &cobra.Command{
		Use:   "login --server URL --token TOKEN",
		Short: "Save the server and admin token for later commands",
		Long: `Check an admin token against a server, then save both to the config file
($XDG_CONFIG_HOME/tinycrm/config.json, else ~/.config/tinycrm/config.json; mode 0600),
which later commands read when --server/--token and TINYCRM_URL/TINYCRM_TOKEN are unset.`,
		Example: `  tinycrm login --server https://crm.example.com --token tcrm_at_…   # the token in <data-dir>/admin.token there
  tinycrm login --server http://127.0.0.1:7070 --token "$(cat ~/.local/share/tinycrm/admin.token)"   # as root: /var/lib/tinycrm/admin.token`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// --server and --token are the persistent flags; here they are
			// required and mean what to save.
			o.server, o.token = app.serverFlag, strings.TrimSpace(app.tokenFlag)
			if o.server == "" || o.token == "" {
				return usagef("login needs --server URL and --token TOKEN (see \"tinycrm login --help\")")
			}
			return runLogin(cmd.Context(), o)
		},
	}
	return cmd
}

func runLogin(ctx context.Context, o *loginOptions) error {
	server, err := normalizeServer(o.server)
	if err != nil {
		return serverError(o.server, "--server", err)
	}
	if !strings.HasPrefix(o.token, "tcrm_at_") {
		return usagef("--token: an admin token starts with tcrm_at_ (tinycrmd wrote it to <data-dir>/admin.token); project keys (tcrm_pk_) only send data")
	}
	o.app.resolved = &target{Server: server, Token: o.token, ServerFrom: "--server", TokenFrom: "--token"}
	st, err := o.app.newClient(server, o.token).Stats(ctx)
	if err != nil {
		return err
	}
	path, err := configPath(o.app.Getenv)
	if err != nil {
		return err
	}
	if err := writeConfig(path, configFile{Server: server, Token: o.token}); err != nil {
		return err
	}
	printf(o.app.Out, "Logged in to %s (%d customers in %d projects); saved to %s\n", server, st.Customers, st.Projects, path)
	return nil
}

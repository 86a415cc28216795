package main

import (
	"github.com/spf13/cobra"
)

func newCompletionCmd(app *App, root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print a shell completion script",
		Long: `Print the completion script of a shell. Load it with, for example:

  bash:  source <(tinycrm completion bash)
  zsh:   tinycrm completion zsh > "${fpath[1]}/_tinycrm"
  fish:  tinycrm completion fish > ~/.config/fish/completions/tinycrm.fish`,
		ValidArgs: []string{"bash", "zsh", "fish"},
		Args: func(cmd *cobra.Command, args []string) error {
			if err := exactArgs("bash|zsh|fish")(cmd, args); err != nil {
				return err
			}
			switch args[0] {
			case "bash", "zsh", "fish":
				return nil
			}
			return usagef("completion: unknown shell %q; use bash, zsh or fish", clip(args[0]))
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(app.Out, true)
			case "zsh":
				return root.GenZshCompletion(app.Out)
			}
			return root.GenFishCompletion(app.Out, true)
		},
	}
}

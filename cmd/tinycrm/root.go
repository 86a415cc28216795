package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Extension adds commands or hooks defined in another file of this
// package, such as tui.go's `tinycrm tui`, to the root command.
type Extension func(app *App, root *cobra.Command)

// newRootCmd builds the whole command tree. Extensions run last, so they
// may add commands and set App hooks (App.OpenTUI).
func newRootCmd(app *App, exts ...Extension) *cobra.Command {
	root := &cobra.Command{
		Use:   "tinycrm",
		Short: "One customer table for your portfolio of products",
		Long: `tinycrm manages a TinyCRM workspace from the terminal: projects and their keys,
the customer table with its filters, imports, exports and insights.

It talks to the tinycrmd given by --server/--token, else TINYCRM_URL/TINYCRM_TOKEN,
else the config saved by "tinycrm login", else the local daemon
(http://127.0.0.1:7070 with its data dir's admin.token).

New here? "tinycrm demo" starts a throwaway daemon with sample data.`,
		Version:       version,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetOut(app.Out)
	root.SetErr(app.ErrOut)
	root.SetIn(app.In)
	root.SetFlagErrorFunc(flagValueError)
	// Runs before every command (none has a hook of its own).
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error { return checkExclusive(cmd) }
	pf := root.PersistentFlags()
	pf.StringVar(&app.serverFlag, "server", "", "TinyCRM server URL (default: $TINYCRM_URL, the login config, http://127.0.0.1:7070)")
	pf.StringVar(&app.tokenFlag, "token", "", "admin token tcrm_at_… (default: $TINYCRM_TOKEN, the login config, the local admin.token)")

	root.AddGroup(
		&cobra.Group{ID: "customers", Title: "Customers:"},
		&cobra.Group{ID: "workspace", Title: "Workspace:"},
		&cobra.Group{ID: "start", Title: "Getting started:"},
	)
	for _, c := range []*cobra.Command{
		newCustomersCmd(app), newCustomerCmd(app), newForgetCmd(app), newImportCmd(app),
		newExportCmd(app), newInsightsCmd(app),
	} {
		c.GroupID = "customers"
		root.AddCommand(c)
	}
	for _, c := range []*cobra.Command{newProjectsCmd(app), newIdentifyCmd(app)} {
		c.GroupID = "workspace"
		root.AddCommand(c)
	}
	for _, c := range []*cobra.Command{newLoginCmd(app), newDemoCmd(app)} {
		c.GroupID = "start"
		root.AddCommand(c)
	}
	root.AddCommand(newCompletionCmd(app, root))
	for _, ext := range exts {
		ext(app, root)
	}
	return root
}

// flagValueError words pflag's errors about a flag's value for the user:
// `--limit: "abc" is not a whole number` rather than strconv's message.
func flagValueError(cmd *cobra.Command, err error) error {
	msg := clipLong(err.Error())
	var iv *pflag.InvalidValueError
	var vr *pflag.ValueRequiredError
	switch {
	case errors.As(err, &iv):
		var what string
		switch t := iv.GetFlag().Value.Type(); {
		case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
			what = "is not a whole number"
		case t == "bool":
			what = "is not true or false"
		default:
			what = "is not valid: " + clipLong(oneLine(iv.Unwrap().Error()))
		}
		msg = fmt.Sprintf("--%s: %q %s", iv.GetFlag().Name, clip(iv.GetValue()), what)
	case errors.As(err, &vr) && vr.GetFlag() != nil:
		msg = fmt.Sprintf("--%s needs a value", vr.GetFlag().Name)
	}
	return usagef("%s (see \"%s --help\")", msg, cmd.CommandPath())
}

// exclusiveAnnotation holds a command's groups of flags that exclude each
// other (see markExclusive): the groups separated by ";", the flag names
// in a group by spaces.
const exclusiveAnnotation = "tinycrm_exclusive"

// markExclusive lets at most one of the flags named be given to cmd. It
// stands for cobra's MarkFlagsMutuallyExclusive, whose error is worded
// for programmers; checkExclusive says it in one line.
func markExclusive(cmd *cobra.Command, names ...string) {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	groups := cmd.Annotations[exclusiveAnnotation]
	if groups != "" {
		groups += ";"
	}
	cmd.Annotations[exclusiveAnnotation] = groups + strings.Join(names, " ")
}

// checkExclusive refuses two flags of a group marked with markExclusive.
func checkExclusive(cmd *cobra.Command) error {
	groups := cmd.Annotations[exclusiveAnnotation]
	if groups == "" {
		return nil
	}
	for _, group := range strings.Split(groups, ";") {
		var set []string
		for _, name := range strings.Fields(group) {
			if cmd.Flags().Changed(name) {
				set = append(set, "--"+name)
			}
		}
		if len(set) > 1 {
			return usagef("%s and %s cannot be used together; pick one (see \"%s --help\")",
				strings.Join(set[:len(set)-1], ", "), set[len(set)-1], cmd.CommandPath())
		}
	}
	return nil
}

// noArgs refuses positional arguments: on a command with subcommands the
// argument is a mistyped subcommand.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.HasSubCommands() {
		return usagef("unknown command %q for %q%s", clip(args[0]), cmd.CommandPath(), suggest(cmd, args[0]))
	}
	return usagef("%s takes no arguments; got %q (see \"%s --help\")", cmd.CommandPath(), clip(args[0]), cmd.CommandPath())
}

// suggest names the subcommands a mistyped one may have meant.
func suggest(cmd *cobra.Command, typed string) string {
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	s := cmd.SuggestionsFor(typed)
	if len(s) == 0 {
		var names []string
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() {
				names = append(names, c.Name())
			}
		}
		return "; use one of: " + strings.Join(names, ", ")
	}
	return "; did you mean " + strings.Join(s, " or ") + "?"
}

// exactArgs requires n positional arguments, named in the message.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == len(names) {
			return nil
		}
		if len(args) < len(names) {
			return usagef("%s needs %s (see \"%s --help\")", cmd.CommandPath(), strings.Join(names[len(args):], " and "), cmd.CommandPath())
		}
		return usagef("%s takes %d argument%s (%s); got %d (see \"%s --help\")", cmd.CommandPath(), len(names),
			plural(len(names)), strings.Join(names, " "), len(args), cmd.CommandPath())
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// groupCmd is a noun that only holds verbs (`projects`, `projects keys`):
// alone it prints its help; with an unknown verb it is a usage error.
func groupCmd(use, short string, aliases ...string) *cobra.Command {
	return &cobra.Command{
		Use:     use,
		Short:   short,
		Aliases: aliases,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
}

// printf writes to w, ignoring errors: stdoutWriter remembers a failed
// write to stdout, and execute reports it.
func printf(w interface{ Write([]byte) (int, error) }, format string, args ...any) {
	fmt.Fprintf(w, format, args...)
}

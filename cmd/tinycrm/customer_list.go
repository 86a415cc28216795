package main

import (
	"context"

	"github.com/spf13/cobra"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/filter"
	"tinycrm.dev/tinycrm/internal/render"
)

// defaultLimit is how many customers `customers` prints without --limit.
const defaultLimit = 50

type customersOptions struct {
	app     *App
	filters filterFlags
	limit   int
	all     bool
	out     outputFlags
}

func newCustomersCmd(app *App) *cobra.Command {
	o := &customersOptions{app: app}
	cmd := &cobra.Command{
		Use:     "customers [filters]",
		Aliases: []string{"ls"},
		Short:   "List and filter customers",
		Long: `List customers, newest activity first, filtered by the flags below (all must hold).

On a terminal: an aligned table with coloured project badges and relative times.
Piped: tab-separated email, name, badges, statuses, MRR and last active (RFC 3339).`,
		Example: `  tinycrm customers --multi-project
  tinycrm customers --project app-a --status paid --sort mrr   # biggest MRR first
  tinycrm customers --where 'plan=pro, mrr>=9' --active-within 7d
  tinycrm customers --all --jsonl > customers.jsonl`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.all && cmd.Flags().Changed("limit") {
				return usagef("use either --limit or --all, not both")
			}
			if o.limit < 1 {
				return usagef("--limit: must be at least 1; got %d (use --all for every customer)", o.limit)
			}
			return runCustomers(cmd.Context(), o)
		},
	}
	addFilterFlags(cmd, &o.filters)
	cmd.Flags().IntVarP(&o.limit, "limit", "L", defaultLimit, "print at most `N` customers")
	cmd.Flags().BoolVar(&o.all, "all", false, "print every matching customer, page by page")
	addOutputFlags(cmd, &o.out, true)
	return cmd
}

func runCustomers(ctx context.Context, o *customersOptions) error {
	f, err := o.filters.Filter()
	if err != nil {
		return err
	}
	c, err := o.app.Client()
	if err != nil {
		return err
	}
	limit := o.limit
	if o.all {
		limit = -1
	}
	fetch := func(ctx context.Context, size int, cursor string) (client.CustomerPage, error) {
		return c.Customers(ctx, f, size, cursor)
	}
	n, more, err := printCustomers(ctx, o.app, o.out.format(), limit, fetch)
	if err != nil {
		return err
	}
	if o.out.format() == formatHuman && o.app.OutTTY {
		hintMore(ctx, o.app, c, f, n, more)
	}
	return nil
}

// pageFunc fetches one page of customers.
type pageFunc func(ctx context.Context, size int, cursor string) (client.CustomerPage, error)

// printCustomers walks pages until limit customers are printed (limit < 0:
// all of them), streaming each page to the output. It reports how many it
// printed and whether more were left.
func printCustomers(ctx context.Context, app *App, fm format, limit int, fetch pageFunc) (int, bool, error) {
	return printCustomersWith(ctx, app, fm, limit, fetch, nil)
}

// printCustomersWith is printCustomers with each customer passed through
// edit (when not nil) before it is printed.
func printCustomersWith(ctx context.Context, app *App, fm format, limit int, fetch pageFunc, edit func(client.Customer) client.Customer) (int, bool, error) {
	w := newCustomerWriter(app, fm)
	n, cursor := 0, ""
	for {
		size := client.MaxPageSize
		if limit >= 0 {
			size = min(size, limit-n)
		}
		p, err := fetch(ctx, size, cursor)
		if err != nil {
			return n, false, err
		}
		for _, cu := range p.Customers {
			if edit != nil {
				cu = edit(cu)
			}
			if err := w.Write(cu); err != nil {
				return n, false, err
			}
			n++
		}
		if err := w.Flush(); err != nil {
			return n, false, err
		}
		if p.NextCursor == "" || p.NextCursor == cursor || len(p.Customers) == 0 {
			return n, false, w.Close()
		}
		if limit >= 0 && n >= limit {
			return n, true, w.Close()
		}
		cursor = p.NextCursor
	}
}

// hintMore tells a person at a terminal that the table was cut, or that
// nothing matched.
func hintMore(ctx context.Context, app *App, c *client.Client, f filter.Filter, n int, more bool) {
	th := app.ErrTheme
	switch {
	case n == 0:
		printf(app.ErrOut, "%s\n", th.Dim("no customers match"))
	case more:
		total := "many"
		if matchesAll(f) {
			if st, err := c.Stats(ctx); err == nil {
				total = render.Count(st.Customers)
			}
		}
		printf(app.ErrOut, "%s\n", th.Dim("showing "+render.Count(n)+" of "+total+"; use --all or --limit N to see more"))
	}
}

// matchesAll reports whether f has no conditions (only, perhaps, a sort).
func matchesAll(f filter.Filter) bool {
	f.Sort = filter.Sort{}
	return f.Describe() == ""
}

package main

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/filter"
	"tinycrm.dev/tinycrm/internal/render"
)

func newInsightsCmd(app *App) *cobra.Command {
	cmd := groupCmd("insights", "Overlap, upsell leads, churn risks and revenue across projects", "insight")
	cmd.AddCommand(newOverlapCmd(app), newUpsellCmd(app), newChurnRiskCmd(app), newRevenueCmd(app))
	return cmd
}

type insightOptions struct {
	app   *App
	out   outputFlags
	limit int
	all   bool
	sort  string
	idle  string // churn-risk
	activ string // churn-risk
}

func newOverlapCmd(app *App) *cobra.Command {
	o := &insightOptions{app: app}
	cmd := &cobra.Command{
		Use:   "overlap",
		Short: "Customers per project, shared customers per pair, people by number of projects",
		Long: `Customers per project, how many customers every pair of projects shares, and how
many people are in 1, 2, 3… projects.

--json prints the server's object: {"projects":[{slug,name,color,customers}],
"pairs":[{a,b,shared}],"distribution":[{projects,customers}]}.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runOverlap(cmd.Context(), o)
		},
	}
	addOutputFlags(cmd, &o.out, false)
	return cmd
}

func newRevenueCmd(app *App) *cobra.Command {
	o := &insightOptions{app: app}
	cmd := &cobra.Command{
		Use:   "revenue",
		Short: "MRR by project, top customers and the top 10 % share of MRR",
		Long: `Total MRR by project, the customers with the largest MRR across all projects,
and the share of MRR held by the top 10 % of paying customers.

--json prints the server's object: {"total_mrr","paying_customers",
"by_project":[{slug,name,color,mrr,paying_customers}],"top_customers":[customer…],
"top_decile_share"} (a fraction 0..1).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRevenue(cmd.Context(), o)
		},
	}
	addOutputFlags(cmd, &o.out, false)
	return cmd
}

func newUpsellCmd(app *App) *cobra.Command {
	o := &insightOptions{app: app}
	cmd := &cobra.Command{
		Use:   "upsell",
		Short: "People who are free or trialing in one project and paid in another",
		Long: `People who are free or trialing in one project and paid in another: they already
pay you, so they are the warmest leads for the product they use for free.
--json prints an array of customers in the "tinycrm customers --json" shape.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCustomerInsight(cmd.Context(), cmd, o, "upsell", upsellPager)
		},
	}
	addInsightListFlags(cmd, o)
	return cmd
}

func newChurnRiskCmd(app *App) *cobra.Command {
	o := &insightOptions{app: app}
	cmd := &cobra.Command{
		Use:   "churn-risk [--idle 30d --active 14d]",
		Short: "People gone quiet (or churned) in one project while active in another",
		Long: `People whose last activity in some project is older than --idle (or whose status
there is churned) while they were active in another project within --active: they
still like you, but drifted away from one product.
--json prints an array of customers in the "tinycrm customers --json" shape.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			idle, err := filter.ParseAge(o.idle)
			if err != nil {
				return usagef("--idle: %v", err)
			}
			active, err := filter.ParseAge(o.activ)
			if err != nil {
				return usagef("--active: %v", err)
			}
			return runCustomerInsight(cmd.Context(), cmd, o, "churn-risk", func(c *client.Client) insightPager {
				return churnPager(c, idle, active)
			})
		},
	}
	cmd.Flags().StringVar(&o.idle, "idle", "30d", "idle in one project for at least this `age`")
	cmd.Flags().StringVar(&o.activ, "active", "14d", "active in another project within this `age`")
	addInsightListFlags(cmd, o)
	return cmd
}

// addInsightListFlags adds the list flags of upsell and churn-risk.
func addInsightListFlags(cmd *cobra.Command, o *insightOptions) {
	cmd.Flags().IntVarP(&o.limit, "limit", "L", defaultLimit, "print at most `N` customers")
	cmd.Flags().BoolVar(&o.all, "all", false, "print every customer, page by page")
	cmd.Flags().StringVar(&o.sort, "sort", "", "order: mrr (default), last_seen, first_seen, email, name, projects; -KEY reverses")
	addOutputFlags(cmd, &o.out, true)
}

// insightPager fetches one page of a customer insight; churn-risk also
// says, per customer id, the projects they are at risk in.
type insightPager func(ctx context.Context, o client.InsightOptions) (client.CustomerPage, map[int64][]client.AtRisk, error)

// upsellPager pages through the upsell insight.
func upsellPager(c *client.Client) insightPager {
	return func(ctx context.Context, o client.InsightOptions) (client.CustomerPage, map[int64][]client.AtRisk, error) {
		p, err := c.Upsell(ctx, o)
		return p, nil, err
	}
}

// churnPager pages through the churn-risk insight (0 ages: the server's
// defaults).
func churnPager(c *client.Client, idle, active time.Duration) insightPager {
	return func(ctx context.Context, o client.InsightOptions) (client.CustomerPage, map[int64][]client.AtRisk, error) {
		p, err := c.ChurnRisk(ctx, idle, active, o)
		if err != nil {
			return client.CustomerPage{}, nil, err
		}
		out := client.CustomerPage{NextCursor: p.NextCursor}
		risk := map[int64][]client.AtRisk{}
		for _, rc := range p.Customers {
			out.Customers = append(out.Customers, rc.Customer)
			risk[rc.ID] = rc.AtRisk
		}
		return out, risk, nil
	}
}

// runCustomerInsight prints upsell or churn-risk like `customers` does.
func runCustomerInsight(ctx context.Context, cmd *cobra.Command, o *insightOptions, name string, pager func(*client.Client) insightPager) error {
	if o.all && cmd.Flags().Changed("limit") {
		return usagef("use either --limit or --all, not both")
	}
	if o.limit < 1 {
		return usagef("--limit: must be at least 1; got %d (use --all for every customer)", o.limit)
	}
	var sort filter.Sort
	if o.sort != "" {
		var err error
		if sort, err = filter.ParseSort(o.sort); err != nil {
			return usagef("--sort: %v", err)
		}
	}
	c, err := o.app.Client()
	if err != nil {
		return err
	}
	limit := o.limit
	if o.all {
		limit = -1
	}
	n, more, err := printInsightCustomers(ctx, o.app, o.out.format(), limit, sort, pager(c))
	if err != nil {
		return err
	}
	if o.out.format() == formatHuman && o.app.OutTTY {
		th := o.app.ErrTheme
		switch {
		case n == 0:
			printf(o.app.ErrOut, "%s\n", th.Dim("nobody right now"))
		case more:
			printf(o.app.ErrOut, "%s\n", th.Dim("showing "+render.Count(n)+" of many; use --all or --limit N to see more ("+name+")"))
		}
	}
	return nil
}

// printInsightCustomers prints the pages of a customer insight like
// printCustomers; on a terminal, churn-risk's table marks the badges of
// the projects a customer is slipping away from.
func printInsightCustomers(ctx context.Context, app *App, fm format, limit int, sort filter.Sort, pager insightPager) (int, bool, error) {
	var risks map[int64][]client.AtRisk
	fetch := func(ctx context.Context, size int, cursor string) (client.CustomerPage, error) {
		p, r, err := pager(ctx, client.InsightOptions{Limit: size, Cursor: cursor, Sort: sort})
		risks = r
		return p, err
	}
	if fm != formatHuman || !app.OutTTY {
		return printCustomers(ctx, app, fm, limit, fetch)
	}
	return printCustomersWith(ctx, app, fm, limit, fetch, func(c client.Customer) client.Customer {
		return markAtRisk(c, risks[c.ID])
	})
}

// markAtRisk appends "(idle)" or "(churned)" to the statuses of the
// memberships a customer is at risk in, for the table.
func markAtRisk(c client.Customer, risk []client.AtRisk) client.Customer {
	if len(risk) == 0 {
		return c
	}
	ms := make([]client.Membership, len(c.Projects))
	for i, m := range c.Projects {
		for _, r := range risk {
			if r.Slug == m.Slug && r.Reason == "idle" {
				m.Status += "(idle)"
			}
		}
		ms[i] = m
	}
	c.Projects = ms
	return c
}

func runOverlap(ctx context.Context, o *insightOptions) error {
	c, err := o.app.Client()
	if err != nil {
		return err
	}
	ov, err := c.Overlap(ctx)
	if err != nil {
		return err
	}
	if o.out.json {
		return printJSON(o.app, ov)
	}
	app := o.app
	if !app.OutTTY {
		var b strings.Builder
		for _, p := range ov.Projects {
			b.WriteString(render.TSV("project", p.Slug, strconv.FormatInt(p.Customers, 10)))
		}
		for _, p := range ov.Pairs {
			b.WriteString(render.TSV("pair", p.A, p.B, strconv.FormatInt(p.Shared, 10)))
		}
		for _, d := range ov.Distribution {
			b.WriteString(render.TSV("projects", strconv.Itoa(d.Projects), strconv.FormatInt(d.Customers, 10)))
		}
		printf(app.Out, "%s", b.String())
		return nil
	}
	th := app.Theme
	var b strings.Builder
	badge := map[string]string{}
	var most int64
	for _, p := range ov.Projects {
		badge[p.Slug] = th.Badge(render.Sanitize(p.Name), p.Color)
		most = max(most, p.Customers)
	}
	b.WriteString(th.Header("Customers per project") + "\n")
	t := render.NewTable([]render.Column{{Title: ""}, {Title: "", Right: true}, {Title: ""}})
	t.NoHeader = true
	for _, p := range ov.Projects {
		t.AddRow([]string{"  " + badge[p.Slug], render.Count(p.Customers), th.Dim(bar(p.Customers, most, 30))})
	}
	_ = t.Render(&b, th)

	if len(ov.Pairs) > 0 {
		b.WriteString("\n" + th.Header("Shared customers") + "\n")
		t = render.NewTable([]render.Column{{Title: ""}, {Title: "", Right: true}, {Title: ""}})
		t.NoHeader = true
		for _, p := range ov.Pairs {
			t.AddRow([]string{"  " + badge[p.A] + " + " + badge[p.B], render.Count(p.Shared), th.Dim(sharePercent(p.Shared, ov, p.A, p.B))})
		}
		_ = t.Render(&b, th)
	}

	b.WriteString("\n" + th.Header("People by number of projects") + "\n")
	most = 0
	for _, d := range ov.Distribution {
		most = max(most, d.Customers)
	}
	t = render.NewTable([]render.Column{{Title: ""}, {Title: "", Right: true}, {Title: ""}})
	t.NoHeader = true
	for _, d := range ov.Distribution {
		label := strconv.Itoa(d.Projects) + " projects"
		if d.Projects == 1 {
			label = "1 project"
		}
		t.AddRow([]string{"  " + label, render.Count(d.Customers), th.Dim(bar(d.Customers, most, 30))})
	}
	_ = t.Render(&b, th)
	printf(app.Out, "%s", b.String())
	return nil
}

// sharePercent says what share of the smaller project the pair shares.
func sharePercent(shared int64, ov client.Overlap, a, b string) string {
	var small int64 = -1
	for _, p := range ov.Projects {
		if (p.Slug == a || p.Slug == b) && (small < 0 || p.Customers < small) {
			small = p.Customers
		}
	}
	if small <= 0 || shared == 0 {
		return ""
	}
	return render.Percent(float64(shared)/float64(small)) + " of the smaller"
}

// bar draws n out of most as a bar of at most width cells.
func bar(n, most int64, width int) string {
	if most <= 0 || n <= 0 {
		return ""
	}
	cells := int((n*int64(width) + most - 1) / most)
	return strings.Repeat("█", max(cells, 1))
}

func runRevenue(ctx context.Context, o *insightOptions) error {
	c, err := o.app.Client()
	if err != nil {
		return err
	}
	rev, err := c.Revenue(ctx)
	if err != nil {
		return err
	}
	if o.out.json {
		for i := range rev.TopCustomers {
			rev.TopCustomers[i] = customerJSON(rev.TopCustomers[i])
		}
		return printJSON(o.app, rev)
	}
	app := o.app
	if !app.OutTTY {
		var b strings.Builder
		b.WriteString(render.TSV("total_mrr", num(rev.TotalMRR)))
		b.WriteString(render.TSV("paying_customers", strconv.FormatInt(rev.PayingCustomers, 10)))
		b.WriteString(render.TSV("top_decile_share", num(rev.TopDecileShare)))
		for _, p := range rev.ByProject {
			b.WriteString(render.TSV("project", p.Slug, num(p.MRR), strconv.FormatInt(p.PayingCustomers, 10)))
		}
		for _, c := range rev.TopCustomers {
			b.WriteString(render.TSV("top", c.Email, num(c.MRRTotal)))
		}
		printf(app.Out, "%s", b.String())
		return nil
	}
	th := app.Theme
	var b strings.Builder
	b.WriteString(th.Bold("Total MRR "+render.Money(rev.TotalMRR)) + " from " + render.Plural(rev.PayingCustomers, "paying customer", "paying customers"))
	if rev.PayingCustomers > 0 {
		b.WriteString(th.Dim(" · the top 10% of them hold " + render.Percent(rev.TopDecileShare)))
	}
	b.WriteString("\n\n" + th.Header("MRR by project") + "\n")
	var most float64
	for _, p := range rev.ByProject {
		most = max(most, p.MRR)
	}
	t := render.NewTable([]render.Column{{Title: ""}, {Title: "", Right: true}, {Title: "", Right: true}, {Title: ""}})
	t.NoHeader = true
	for _, p := range rev.ByProject {
		t.AddRow([]string{"  " + th.Badge(render.Sanitize(p.Name), p.Color), render.Money(p.MRR),
			th.Dim(render.Count(p.PayingCustomers) + " paying"), th.Dim(bar(int64(p.MRR*100), int64(most*100), 30))})
	}
	_ = t.Render(&b, th)
	if len(rev.TopCustomers) > 0 {
		b.WriteString("\n" + th.Header("Top customers by MRR") + "\n")
		t = render.NewTable(render.CustomerColumns())
		t.Width = app.TermWidth
		for _, c := range rev.TopCustomers {
			t.AddRow(th.CustomerRow(c))
		}
		_ = t.Render(&b, th)
	}
	printf(app.Out, "%s", b.String())
	return nil
}

// num renders a number for piped output.
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/daemon"
	"tinycrm.dev/tinycrm/filter"
	"tinycrm.dev/tinycrm/internal/render"
)

type demoOptions struct {
	app    *App
	keep   bool
	noTUI  bool
	people int
}

func newDemoCmd(app *App) *cobra.Command {
	o := &demoOptions{app: app}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Start a throwaway TinyCRM with sample customers and open it",
		Long: `The one-command tour. It starts a tinycrmd in this process with its own managed
PostgreSQL in a fresh temporary directory (fsync off: the data is thrown away),
creates three projects (Inkwell, a newsletter tool; Linkpage, a link-in-bio tool;
Metricly, an analytics dashboard), and loads a few hundred customers through the
real ingest API with each project's key, including Alice Chen in all three.
The data is the same on every run (times are relative to now).

On a terminal it then opens the TUI; otherwise (or with --no-tui) it prints the
customer table and the upsell and churn-risk insights. It exits when you quit
the TUI or after printing, unless --keep keeps the daemon running until Ctrl-C
so that other commands can use it. On exit it stops PostgreSQL and deletes the
temporary directory.`,
		Example: `  tinycrm demo
  tinycrm demo --keep      # then, in another terminal, use the printed TINYCRM_URL/TINYCRM_TOKEN`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.people < 1 || o.people > 100000 {
				return usagef("--customers: must be from 1 to 100000; got %d", o.people)
			}
			return runDemo(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVar(&o.keep, "keep", false, "keep the demo daemon running until Ctrl-C")
	cmd.Flags().BoolVar(&o.noTUI, "no-tui", false, "print the tables instead of opening the TUI")
	cmd.Flags().IntVar(&o.people, "customers", 300, "how many sample customers to generate (besides Alice)")
	return cmd
}

// demoStep prints one step of the demo's progress on a terminal's stderr.
type demoStep struct {
	app   *App
	start time.Time
}

func (s *demoStep) begin(what string) {
	s.start = time.Now()
	if s.app.ErrTTY {
		printf(s.app.ErrOut, "%s %s…", s.app.ErrTheme.Dim("•"), what)
	}
}

func (s *demoStep) done(what string) {
	if s.app.ErrTTY {
		printf(s.app.ErrOut, "\r\x1b[K%s %s%s\n", s.app.ErrTheme.Good("✓"), what,
			s.app.ErrTheme.Dim(" ("+time.Since(s.start).Round(100*time.Millisecond).String()+")"))
	}
}

func runDemo(ctx context.Context, o *demoOptions) (err error) {
	app := o.app
	step := &demoStep{app: app}
	dir, err := os.MkdirTemp("", "tinycrm-demo-")
	if err != nil {
		return fmt.Errorf("demo: create a temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)
	// As root, the managed PostgreSQL runs as an unprivileged user that must
	// be able to enter the data dir.
	if err := os.Chmod(dir, 0o755); err != nil {
		return fmt.Errorf("demo: %w", err)
	}

	step.begin("Starting tinycrmd with a private PostgreSQL in " + dir)
	d, err := daemon.Start(ctx, daemon.Config{
		Listen:  "127.0.0.1:0",
		DataDir: dir,
		Logger:  slog.New(slog.DiscardHandler),
		// Throwaway data: durability buys nothing here and costs seconds.
		PostgresSettings: map[string]string{"fsync": "off", "full_page_writes": "off", "synchronous_commit": "off"},
	})
	if err != nil {
		if ctx.Err() != nil {
			return context.Canceled
		}
		return fmt.Errorf("demo: %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if serr := d.Shutdown(sctx); serr != nil && err == nil {
			err = fmt.Errorf("demo: stop the daemon: %w", serr)
		}
	}()
	token, err := d.AdminToken()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	step.done("tinycrmd is listening on " + d.URL)
	app.resolved = &target{Server: d.URL, Token: token, ServerFrom: "demo", TokenFrom: "demo"}
	admin := app.newClient(d.URL, token)

	step.begin("Creating 3 projects and loading customers through the ingest API")
	seed := newDemoSeed(o.people, time.Now())
	stats, err := loadDemo(ctx, app, admin, seed)
	if err != nil {
		if ctx.Err() != nil {
			return context.Canceled
		}
		return fmt.Errorf("demo: %w", err)
	}
	step.done(fmt.Sprintf("%s customers in %s projects, %s in 2 or more", render.Count(stats.Customers),
		render.Count(stats.Projects), render.Count(stats.MultiProject)))

	env := fmt.Sprintf("TINYCRM_URL=%s TINYCRM_TOKEN=%s", d.URL, token)
	if app.OutTTY && app.OpenTUI != nil && !o.noTUI {
		printf(app.ErrOut, "\nThe demo daemon listens on %s while the TUI is open. In another terminal:\n  %s tinycrm customers\n\n", d.URL, env)
		if err := app.OpenTUI(ctx, admin, filter.Filter{}); err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		if !o.keep {
			// The hint above is still on the screen: say it no longer holds.
			printf(app.ErrOut, "%s\n", app.ErrTheme.Dim("The demo daemon has stopped and its data is deleted; \"tinycrm demo --keep\" keeps it running after the TUI."))
			return nil
		}
	} else if err := demoReport(ctx, app, admin, stats); err != nil {
		return err
	}

	th := app.Theme
	if !o.keep {
		printf(app.Out, "\n%s\n", th.Dim("The demo daemon stops now and its data is deleted. Run \"tinycrm demo --keep\" to keep it running and try other commands against it."))
		return nil
	}
	printf(app.Out, "\nThe demo daemon listens on %s with admin token %s\nTry, in another terminal:\n\n", d.URL, token)
	printf(app.Out, "  export %s\n  tinycrm customers --multi-project\n  tinycrm customer alice@example.com\n  tinycrm insights overlap\n  tinycrm tui\n\n", env)
	printf(app.Out, "%s\n", th.Dim("Press Ctrl-C to stop the demo and delete its data."))
	select {
	case <-ctx.Done():
	case err := <-d.Done():
		return fmt.Errorf("demo: the daemon stopped: %w", err)
	}
	if app.ErrTTY {
		printf(app.ErrOut, "\nStopping the demo…\n")
	}
	return nil
}

// loadDemo creates the projects and sends the seed, each project's calls
// with its own key, in parallel; then Alice's three identifies.
func loadDemo(ctx context.Context, app *App, admin *client.Client, seed demoSeed) (client.Stats, error) {
	keys := make([]string, len(seed.projects))
	for i, p := range seed.projects {
		cp, err := admin.CreateProject(ctx, client.NewProject{Name: p.name, Color: p.color})
		if err != nil {
			return client.Stats{}, fmt.Errorf("create project %s: %w", p.name, err)
		}
		keys[i] = cp.Key
	}
	total := 0
	for _, calls := range seed.calls {
		total += len(calls)
	}
	total += len(aliceCalls())
	var sent atomic.Int64
	prog := newProgress(app)
	show := func() {
		n := sent.Load()
		prog.Update(fmt.Sprintf("%s loading customers through the ingest API: %s/%s identifies",
			progressBar(float64(n)/float64(total), 20), render.Count(n), render.Count(total)), false)
	}
	gctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for i, calls := range seed.calls {
		c := app.newClient(admin.BaseURL(), keys[i], client.WithRetries(client.DefaultRetries))
		wg.Go(func() {
			if err := loadProject(gctx, c, seed.projects[i].name, calls, &sent, show); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(gctx); err != nil {
		prog.Done()
		return client.Stats{}, err
	}
	// Alice last, so she is the most recently active ("just now").
	for i, id := range aliceCalls() {
		if _, err := app.newClient(admin.BaseURL(), keys[i]).Identify(ctx, id); err != nil {
			prog.Done()
			return client.Stats{}, fmt.Errorf("identify Alice in %s: %w", seed.projects[i].name, err)
		}
		sent.Add(1)
	}
	show()
	prog.Done()
	return admin.Stats(ctx)
}

// loadProject sends one project's calls with its key, in batches of 200
// so that the progress moves.
func loadProject(ctx context.Context, c *client.Client, name string, calls []client.Identify, sent *atomic.Int64, show func()) error {
	for start := 0; start < len(calls); start += 200 {
		chunk := calls[start:min(start+200, len(calls))]
		res, err := c.Batch(ctx, chunk)
		if err != nil {
			return fmt.Errorf("load %s: %w", name, err)
		}
		if len(res.Rejected) > 0 {
			r := res.Rejected[0]
			return fmt.Errorf("load %s: the server rejected %d identifies, first %s: %s", name, len(res.Rejected), chunk[r.Index].Email, r.Error)
		}
		sent.Add(int64(len(chunk)))
		show()
	}
	return nil
}

// demoReport prints what the TUI would have shown: the newest customers,
// then the upsell leads and the churn risks.
func demoReport(ctx context.Context, app *App, admin *client.Client, st client.Stats) error {
	th := app.Theme
	section := func(title string) {
		if app.OutTTY {
			printf(app.Out, "\n%s\n", th.Header(title))
		} else {
			printf(app.Out, "\n== %s ==\n", title)
		}
	}
	const rows = 15
	section(fmt.Sprintf("Customers, most recently active first (%d of %s · %s projects · %s in 2+)",
		rows, render.Count(st.Customers), render.Count(st.Projects), render.Count(st.MultiProject)))
	fetch := func(ctx context.Context, size int, cursor string) (client.CustomerPage, error) {
		return admin.Customers(ctx, filter.Filter{}, size, cursor)
	}
	if _, _, err := printCustomers(ctx, app, formatHuman, rows, fetch); err != nil {
		return err
	}
	pagers := []struct {
		name, title string
		pager       insightPager
	}{
		{"upsell", "Upsell leads: free or trialing in one product, paying in another", upsellPager(admin)},
		{"churn-risk", "Churn risk: quiet for 30d+ (or churned) in one product, active in another within 14d", churnPager(admin, 0, 0)},
	}
	for _, in := range pagers {
		section(in.title)
		n, more, err := printInsightCustomers(ctx, app, formatHuman, 10, filter.Sort{}, in.pager)
		if err != nil {
			return err
		}
		if more {
			printf(app.Out, "%s\n", th.Dim(fmt.Sprintf("… the first %d; see them all with \"tinycrm insights %s --all\"", n, in.name)))
		}
	}
	return nil
}

// Package tui is TinyCRM's interactive customer browser (`tinycrm tui`,
// SPEC §6): one screen with the workspace's counts, the active filter, the
// customer table and a key help line, plus pickers, prompts, a detail view
// and a full help overlay.
//
// It reads through a small [Source] (which *client.Client satisfies), one
// page of customers at a time, and never holds more than a few pages, so a
// million customers open as fast as a hundred. It must not talk HTTP
// itself, write to stdout outside the Bubble Tea program, or keep state
// outside its model.
//
// Structure (after gh-dash and glow): the root model is a router over
// modes; the table, picker, prompt, detail and help are small components
// with their own update and view; what they share (size, styles, keys,
// source, clock) travels in one shared struct passed explicitly.
package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	tea "charm.land/bubbletea/v2"

	"tinycrm.dev/tinycrm/client"
	"tinycrm.dev/tinycrm/filter"
)

// Source is what the TUI reads from. *client.Client satisfies it; tests
// use a fake.
type Source interface {
	Customers(ctx context.Context, f filter.Filter, limit int, cursor string) (client.CustomerPage, error)
	Customer(ctx context.Context, idOrEmail string) (client.CustomerDetail, error)
	Stats(ctx context.Context) (client.Stats, error)
	Projects(ctx context.Context) ([]client.Project, error)
	Export(ctx context.Context, f filter.Filter, format string) (io.ReadCloser, error)
}

var _ Source = (*client.Client)(nil)

// Options tune Run. The zero value is usable.
type Options struct {
	// Server is the server's URL, shown in messages (what is unreachable,
	// where to send identify calls).
	Server string
	// NoColor turns colour off (set it when NO_COLOR is set): badges show
	// as [Name].
	NoColor bool
	// PageSize is the number of customers fetched at a time; default 100.
	PageSize int
	// MaxPages is how many pages are held at most; default 5.
	MaxPages int
	// RefreshEvery is the automatic refresh period; default 5s, negative
	// turns it off.
	RefreshEvery time.Duration
	// Now is the clock for relative times; default time.Now.
	Now func() time.Time
	// Input and Output replace the terminal (default stdin and stdout).
	Input  io.Reader
	Output io.Writer
}

// Defaults of Options.
const (
	DefaultPageSize     = 100
	DefaultMaxPages     = 5
	DefaultRefreshEvery = 5 * time.Second
	searchDebounce      = 150 * time.Millisecond
)

// Run shows the customers of src matching initial until the user quits or
// ctx ends. An invalid initial filter is an error before anything is drawn.
func Run(ctx context.Context, src Source, initial filter.Filter, opts Options) error {
	if err := initial.Validate(); err != nil {
		return fmt.Errorf("tui: invalid filter: %w", err)
	}
	m := newModel(src, initial, opts)
	popts := []tea.ProgramOption{tea.WithContext(ctx)}
	if opts.Input != nil {
		popts = append(popts, tea.WithInput(opts.Input))
	}
	if opts.Output != nil {
		popts = append(popts, tea.WithOutput(opts.Output))
	}
	_, err := tea.NewProgram(m, popts...).Run()
	m.stop()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil // the caller ended it: not a failure of the TUI
	}
	if err != nil {
		return fmt.Errorf("tui: %w", err)
	}
	return nil
}

// shared is what every component may read: the terminal size, styles,
// keys, the data source and the clock. The root model owns it.
type shared struct {
	width, height int
	dark          bool
	styles        Styles
	keys          keyMap
	src           Source
	opts          Options
	now           func() time.Time
	// after delivers msg after d; tests replace it to control time.
	after func(d time.Duration, msg tea.Msg) tea.Cmd
	// getwd and home resolve export paths; tests pin them.
	getwd, home func() (string, error)
}

func newShared(src Source, opts Options) *shared {
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	opts.PageSize = min(opts.PageSize, client.MaxPageSize)
	if opts.MaxPages < 3 {
		opts.MaxPages = DefaultMaxPages
	}
	if opts.RefreshEvery == 0 {
		opts.RefreshEvery = DefaultRefreshEvery
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &shared{
		width: 80, height: 24, dark: true,
		styles: newStyles(true, opts.NoColor),
		keys:   newKeyMap(),
		src:    src,
		opts:   opts,
		now:    now,
		after: func(d time.Duration, msg tea.Msg) tea.Cmd {
			return tea.Tick(d, func(time.Time) tea.Msg { return msg })
		},
		getwd: os.Getwd,
		home:  os.UserHomeDir,
	}
}

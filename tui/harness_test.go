package tui

import (
	"testing"
	"time"
	"unicode"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"tinycrm.dev/tinycrm/filter"
)

// harness drives a model the way a Bubble Tea program would, but
// synchronously: every command runs at once and its message is fed back,
// except timers, which wait in timers until fire is called. With hold set,
// commands are kept in held instead of run, to deliver replies out of
// order.
type harness struct {
	t      testing.TB
	m      *model
	src    *fakeSource
	timers []tea.Msg
	hold   bool
	held   []tea.Cmd
	quit   bool
	// check runs after every Update (for invariants).
	check func(*model)
}

// The working and home directories the harness pins.
const (
	testHome    = "/home/owner"
	testWorkDir = "/home/owner/crm"
)

// delayed is what the test clock's timers return.
type delayed struct {
	d   time.Duration
	msg tea.Msg
}

func newHarness(t testing.TB, src *fakeSource, f filter.Filter, opts Options, w, h int) *harness {
	t.Helper()
	hs := build(t, src, f, opts, w, h)
	hs.run(hs.m.Init())
	return hs
}

// build is newHarness without Init: nothing fetched yet.
func build(t testing.TB, src *fakeSource, f filter.Filter, opts Options, w, h int) *harness {
	t.Helper()
	opts.Now = func() time.Time { return testNow }
	opts.Server = "http://127.0.0.1:7070"
	hs := &harness{t: t, src: src}
	hs.m = newModel(src, f, opts)
	hs.m.sh.after = func(d time.Duration, msg tea.Msg) tea.Cmd {
		return func() tea.Msg { return delayed{d, msg} }
	}
	// Export paths resolve against a pinned directory, the same on every
	// machine; tests that write files point these at a temporary one.
	hs.m.sh.getwd = func() (string, error) { return testWorkDir, nil }
	hs.m.sh.home = func() (string, error) { return testHome, nil }
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	return hs
}

// send delivers messages to the model.
func (h *harness) send(msgs ...tea.Msg) {
	for _, msg := range msgs {
		_, cmd := h.m.Update(msg)
		if h.check != nil {
			h.check(h.m)
		}
		h.run(cmd)
	}
}

// run runs a command and feeds back what it returns.
func (h *harness) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	if h.hold {
		h.held = append(h.held, cmd)
		return
	}
	switch msg := cmd().(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			h.run(c)
		}
	case delayed:
		h.timers = append(h.timers, msg.msg)
	case tea.QuitMsg:
		h.quit = true
	default:
		h.send(msg)
	}
}

// fire delivers the pending timer messages of type T (all when T is any).
func fire[T any](h *harness) {
	var keep []tea.Msg
	var due []tea.Msg
	for _, m := range h.timers {
		if _, ok := m.(T); ok {
			due = append(due, m)
		} else {
			keep = append(keep, m)
		}
	}
	h.timers = keep
	h.send(due...)
}

// press sends key presses by name: "enter", "esc", "up", "ctrl+c", or a
// single character.
func (h *harness) press(keys ...string) {
	for _, k := range keys {
		h.send(keyMsg(k))
	}
}

// typeText types each character of s.
func (h *harness) typeText(s string) {
	for _, r := range s {
		h.send(keyMsg(string(r)))
	}
}

func keyMsg(k string) tea.KeyPressMsg {
	named := map[string]rune{
		"enter": tea.KeyEnter, "esc": tea.KeyEscape, "up": tea.KeyUp, "down": tea.KeyDown,
		"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "home": tea.KeyHome, "end": tea.KeyEnd,
		"backspace": tea.KeyBackspace, "left": tea.KeyLeft, "right": tea.KeyRight, "tab": tea.KeyTab, "space": tea.KeySpace,
	}
	if r, ok := named[k]; ok {
		if k == "space" {
			return tea.KeyPressMsg{Code: r, Text: " "}
		}
		return tea.KeyPressMsg{Code: r}
	}
	if k == "ctrl+c" {
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	msg := tea.KeyPressMsg{Code: unicode.ToLower(r), Text: k}
	if unicode.IsUpper(r) {
		msg.ShiftedCode, msg.Mod = r, tea.ModShift
	}
	return msg
}

// screen is the frame without escape codes.
func (h *harness) screen() string { return ansi.Strip(h.m.View().Content) }

// current is the customer under the cursor (id 0 when none).
func (h *harness) current() int64 {
	c, _ := h.m.list.current()
	return c.ID
}

package tui

import "charm.land/bubbles/v2/key"

// keyMap is every key binding of the TUI. Each mode shows its own subset
// in the help line (see the *Help methods).
type keyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Search, Projects, Multi, Status, Where  key.Binding
	Sort, Open, Export, Refresh, Clear      key.Binding
	Help, Quit, Back                        key.Binding
	Toggle, Apply, Cancel, Reverse, Scroll  key.Binding
	Retry                                   key.Binding
}

func newKeyMap() keyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return keyMap{
		Up:       b([]string{"up", "k"}, "↑/k", "up"),
		Down:     b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:   b([]string{"pgup", "ctrl+u"}, "pgup", "page up"),
		PageDown: b([]string{"pgdown", "ctrl+d"}, "pgdn", "page down"),
		Top:      b([]string{"g", "home"}, "g", "top"),
		Bottom:   b([]string{"G", "end"}, "G", "bottom"),
		Search:   b([]string{"/"}, "/", "search"),
		Projects: b([]string{"p"}, "p", "projects"),
		Multi:    b([]string{"m"}, "m", "2+ projects"),
		Status:   b([]string{"s"}, "s", "status"),
		Where:    b([]string{"w"}, "w", "where"),
		Sort:     b([]string{"o"}, "o", "sort"),
		Open:     b([]string{"enter"}, "enter", "open"),
		Export:   b([]string{"e"}, "e", "export"),
		Refresh:  b([]string{"r"}, "r", "refresh"),
		Clear:    b([]string{"x"}, "x", "clear filters"),
		Help:     b([]string{"?"}, "?", "help"),
		Quit:     b([]string{"q", "ctrl+c"}, "q", "quit"),
		Back:     b([]string{"esc"}, "esc", "back"),
		Toggle:   b([]string{"space", "x"}, "space", "toggle"),
		Apply:    b([]string{"enter"}, "enter", "apply"),
		Cancel:   b([]string{"esc"}, "esc", "cancel"),
		Reverse:  b([]string{"-", "r"}, "-", "reverse"),
		Scroll:   b([]string{"up", "down", "k", "j"}, "↑↓", "scroll"),
		Retry:    b([]string{"r"}, "r", "retry"),
	}
}

// helpKeys adapts a list of bindings to help.KeyMap. When the short help
// is too wide for the terminal, the hints in drop are left out, least
// important first; the others always show.
type helpKeys struct {
	short []key.Binding
	full  [][]key.Binding
	drop  []key.Binding
}

func (h helpKeys) ShortHelp() []key.Binding  { return h.short }
func (h helpKeys) FullHelp() [][]key.Binding { return h.full }

// listHelp is the help of the customer list.
func (k keyMap) listHelp() helpKeys {
	multi := key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "2+")) // short: "m 2+ projects" is long
	return helpKeys{
		short: []key.Binding{k.Search, k.Projects, multi, k.Status, k.Where, k.Sort, k.Open, k.Export, k.Refresh, k.Help, k.Quit},
		drop:  []key.Binding{k.Refresh, k.Export, k.Sort, multi, k.Where, k.Status, k.Projects, k.Open, k.Search},
		full: [][]key.Binding{
			{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
			{k.Search, k.Projects, k.Multi, k.Status, k.Where, k.Sort, k.Clear},
			{k.Open, k.Export, k.Refresh, k.Help, k.Back, k.Quit},
		},
	}
}

// pickerHelp is the help of the project and status pickers.
func (k keyMap) pickerHelp() helpKeys {
	up := key.NewBinding(key.WithKeys("up"), key.WithHelp("↑↓", "move"))
	return helpKeys{short: []key.Binding{up, k.Toggle, k.Apply, k.Cancel}, drop: []key.Binding{up, k.Toggle}}
}

// sortHelp is the help of the sort picker.
func (k keyMap) sortHelp() helpKeys {
	up := key.NewBinding(key.WithKeys("up"), key.WithHelp("↑↓", "move"))
	return helpKeys{short: []key.Binding{up, k.Reverse, k.Apply, k.Cancel}, drop: []key.Binding{up, k.Reverse}}
}

// inputHelp is the help of a text prompt.
func (k keyMap) inputHelp(apply string) helpKeys {
	a := key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", apply))
	return helpKeys{short: []key.Binding{a, k.Cancel}}
}

// detailHelp is the help of the detail view.
func (k keyMap) detailHelp() helpKeys {
	reload := key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "reload"))
	return helpKeys{
		short: []key.Binding{k.Scroll, k.PageDown, reload, k.Back, k.Quit},
		drop:  []key.Binding{k.PageDown, reload, k.Scroll},
	}
}

// errorHelp is the help of the error screen.
func (k keyMap) errorHelp() helpKeys {
	return helpKeys{short: []key.Binding{k.Retry, k.Quit}}
}

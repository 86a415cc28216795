// Package dirs knows where TinyCRM keeps files on this machine, so the daemon
// and the CLI agree on the default data dir (and its admin.token) and the
// CLI's config file.
package dirs

import (
	"errors"
	"path/filepath"
)

// DataDir is the default data dir: $XDG_DATA_HOME/tinycrm, else
// ~/.local/share/tinycrm. For root without XDG_DATA_HOME it is
// /var/lib/tinycrm, because the managed PostgreSQL runs as an unprivileged
// user that cannot enter root's home.
func DataDir(getenv func(string) string, euid int) (string, error) {
	if d := getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "tinycrm"), nil
	}
	if euid == 0 {
		return "/var/lib/tinycrm", nil
	}
	home := getenv("HOME")
	if home == "" {
		return "", errors.New("cannot find a data dir: set --data-dir, TINYCRM_DATA_DIR, XDG_DATA_HOME or HOME")
	}
	return filepath.Join(home, ".local", "share", "tinycrm"), nil
}

// ConfigFile is where `tinycrm login` writes: $XDG_CONFIG_HOME/tinycrm/config.json,
// else ~/.config/tinycrm/config.json.
func ConfigFile(getenv func(string) string) (string, error) {
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "tinycrm", "config.json"), nil
	}
	home := getenv("HOME")
	if home == "" {
		return "", errors.New("cannot find a config dir: set XDG_CONFIG_HOME or HOME")
	}
	return filepath.Join(home, ".config", "tinycrm", "config.json"), nil
}

// TokenFile is the admin token file inside a data dir.
func TokenFile(dataDir string) string { return filepath.Join(dataDir, "admin.token") }

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"

	"tinycrm.dev/tinycrm/internal/dirs"
)

// maxRateLimit is the highest --rate-limit: far above what one daemon
// serves, and low enough that the burst (twice it) is an ordinary int.
const maxRateLimit = 1_000_000

// config is everything tinycrmd is told, from flags over environment.
type config struct {
	Listen      string
	DatabaseURL string
	DataDir     string
	RateLimit   float64
	LogLevel    slog.Level
	LogFormat   string // auto, text or json
	// NewAdminToken replaces the admin token at start.
	NewAdminToken bool
}

// parseConfig reads flags, falling back to TINYCRM_* environment variables
// and then to defaults. It does no I/O beyond writing usage to out.
func parseConfig(args []string, getenv func(string) string, euid int, out io.Writer) (config, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("tinycrmd", flag.ContinueOnError)
	fs.SetOutput(out)
	var c config
	var rateLimit, logLevel string
	fs.StringVar(&c.Listen, "listen", env("TINYCRM_LISTEN", "127.0.0.1:7070"), "address to serve HTTP on (TINYCRM_LISTEN)")
	fs.StringVar(&c.DatabaseURL, "database-url", env("TINYCRM_DATABASE_URL", ""), "PostgreSQL URL; empty runs a managed cluster in the data dir (TINYCRM_DATABASE_URL)")
	fs.StringVar(&c.DataDir, "data-dir", env("TINYCRM_DATA_DIR", ""), "where the managed cluster and admin.token live (TINYCRM_DATA_DIR; default $XDG_DATA_HOME/tinycrm, else ~/.local/share/tinycrm; as root /var/lib/tinycrm)")
	fs.StringVar(&rateLimit, "rate-limit", env("TINYCRM_RATE_LIMIT", "100"), "ingest requests per second per project key, bursts of twice that; 0 turns it off (TINYCRM_RATE_LIMIT)")
	fs.StringVar(&logLevel, "log-level", env("TINYCRM_LOG_LEVEL", "info"), "debug, info, warn or error (TINYCRM_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", env("TINYCRM_LOG_FORMAT", "auto"), "auto (text on a terminal, JSON otherwise), text or json (TINYCRM_LOG_FORMAT)")
	fs.BoolVar(&c.NewAdminToken, "new-admin-token", false, "write a new admin token to <data-dir>/admin.token at start; older admin tokens stop working (for a lost or leaked token)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return config{}, err
		}
		return config{}, fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q (tinycrmd takes only flags)", fs.Arg(0))
	}
	var err error
	// NaN, Inf and huge rates would overflow the burst (twice the rate)
	// and refuse every call for centuries; 0 is the way to turn it off.
	if c.RateLimit, err = strconv.ParseFloat(rateLimit, 64); err != nil || !(c.RateLimit >= 0 && c.RateLimit <= maxRateLimit) {
		return config{}, fmt.Errorf("--rate-limit / TINYCRM_RATE_LIMIT: want a number from 0 (off) to %d, got %q", maxRateLimit, rateLimit)
	}
	if err := c.LogLevel.UnmarshalText([]byte(logLevel)); err != nil {
		return config{}, fmt.Errorf("--log-level / TINYCRM_LOG_LEVEL: want debug, info, warn or error, got %q", logLevel)
	}
	switch c.LogFormat {
	case "auto", "text", "json":
	default:
		return config{}, fmt.Errorf("--log-format / TINYCRM_LOG_FORMAT: want auto, text or json, got %q", c.LogFormat)
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return config{}, fmt.Errorf("--listen / TINYCRM_LISTEN: want host:port like 127.0.0.1:7070, got %q", c.Listen)
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") && !strings.Contains(c.DatabaseURL, "=") {
		return config{}, errors.New("--database-url / TINYCRM_DATABASE_URL: want postgres://user@host/db or a key=value DSN")
	}
	if c.DataDir == "" {
		if c.DataDir, err = dirs.DataDir(getenv, euid); err != nil {
			return config{}, err
		}
	}
	return c, nil
}

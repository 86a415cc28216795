package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"

	"tinycrm.dev/tinycrm/client"
)

// Exit codes of tinycrm.
const (
	exitOK        = 0
	exitError     = 1   // the command failed
	exitUsage     = 2   // the command line is wrong: flag, argument, filter
	exitInterrupt = 130 // stopped by Ctrl-C
)

// usageError is a mistake in the command line; it exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// usagef returns a usage error.
func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// silentError ends the command with a code after it has already said why
// (such as an import whose rows were all rejected).
type silentError struct{ code int }

func (e *silentError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// cobraUsagePrefixes are the messages of cobra's and pflag's own command
// line errors, which reach us as plain errors.
var cobraUsagePrefixes = []string{
	"unknown command", "unknown flag", "unknown shorthand flag", "invalid argument",
	"flag needs an argument", "bad flag syntax", "required flag", "accepts ", "requires at least",
	"requires at most", "if any flags in the group", "none of the others can be",
}

// isCobraUsage reports whether err is one of cobra's command line errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range cobraUsagePrefixes {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// exitCode and message turn any error into the exit code and the one line
// that tinycrm prints on stderr. It is the one place where errors meet the
// user: commands return errors and never print them.
func exitCode(err error, server string) (int, string) {
	if err == nil {
		return exitOK, ""
	}
	var se *silentError
	if errors.As(err, &se) {
		return se.code, ""
	}
	var ue *usageError
	if errors.As(err, &ue) {
		return exitUsage, ue.msg
	}
	if isCobraUsage(err) {
		return exitUsage, err.Error()
	}
	if errors.Is(err, syscall.EPIPE) {
		// The reader of our output went away (| head): nothing to say.
		return exitOK, ""
	}
	if errors.Is(err, context.Canceled) {
		return exitInterrupt, "interrupted"
	}
	return exitError, describe(err, server)
}

// describe says what went wrong and what to do about it.
func describe(err error, server string) string {
	if server == "" {
		server = "the server"
	}
	var ae *client.APIError
	switch {
	case client.IsUnauthorized(err):
		return fmt.Sprintf("token rejected by %s: run \"tinycrm login --server %s --token tcrm_at_…\" with the admin token, or set TINYCRM_TOKEN", server, server)
	case client.IsForbidden(err):
		return fmt.Sprintf("%s refused the token: this command needs the admin token (tcrm_at_…), not a project key (tcrm_pk_…)", server)
	case errors.As(err, &ae) && ae.Status >= 500:
		return fmt.Sprintf("%s failed: %s; try again, and check the tinycrmd log if it persists", server, ae.Error())
	case errors.As(err, &ae):
		// The server's problem detail already says what is wrong.
		return oneLine(err.Error())
	case unreachable(err):
		return fmt.Sprintf("cannot reach %s: is tinycrmd running? start it with \"tinycrmd\" or try \"tinycrm demo\"", server)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("%s did not answer in time: %s", server, oneLine(err.Error()))
	}
	return oneLine(err.Error())
}

// unreachable reports whether err is a failure to connect (refused,
// unknown host, no route), as opposed to an answer from the server.
func unreachable(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var ue *url.Error
	return errors.As(err, &ue) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// oneLine folds a message onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
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

// partialError is a failure after part of the work was done (an import
// that stopped): its line says how far the work got, what went wrong (as
// describe words it) and what to do.
type partialError struct {
	done   string // such as "import stopped after 1,505 rows landed"
	err    error
	advice string // such as "run the same command again to finish"
}

func (e *partialError) Error() string { return e.done + ": " + e.err.Error() + "; " + e.advice }
func (e *partialError) Unwrap() error { return e.err }

// cobraUsagePrefixes are the messages of cobra's and pflag's own command
// line errors, which reach us as plain errors.
var cobraUsagePrefixes = []string{
	"unknown command", "unknown flag", "unknown shorthand flag", "invalid argument",
	"flag needs an argument", "bad flag syntax", "required flag", "accepts ", "requires at least",
	"requires at most",
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
//
// server and tokenFrom are the resolved server and where its token came
// from (see target), "" when unknown; they make the advice precise.
func exitCode(err error, server, tokenFrom string) (int, string) {
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
	var sc *stdoutClosedError
	if errors.As(err, &sc) {
		// The reader of our output went away (| head): nothing to say.
		// Only stdout's EPIPE: a broken connection to the server is an error.
		return exitOK, ""
	}
	var we *stdoutError
	if errors.As(err, &we) {
		return exitError, fmt.Sprintf("cannot write to stdout (%s), so the output is lost or incomplete; send stdout somewhere writable "+
			"and run the command again (a new key lost with it: get another with \"tinycrm projects keys create SLUG\")", we.reason())
	}
	if errors.Is(err, context.Canceled) {
		return exitInterrupt, "interrupted"
	}
	var pe *partialError
	if errors.As(err, &pe) {
		return exitError, pe.done + ": " + describe(pe.err, server, tokenFrom) + "; " + pe.advice
	}
	if badRequest(err) {
		// The server refused a value the user gave (a name, a slug, a
		// colour, an email): a usage error, as the same mistake caught
		// locally would be.
		return exitUsage, describe(err, server, tokenFrom)
	}
	return exitError, describe(err, server, tokenFrom)
}

// badRequest reports whether err is the server's 400 or 422: a request
// value it refuses, which the CLI sends only as the user typed it.
func badRequest(err error) bool {
	var ae *client.APIError
	return errors.As(err, &ae) && ae.Problem && (ae.Status == http.StatusBadRequest || ae.Status == http.StatusUnprocessableEntity)
}

// foreignRefusal reports whether err is a refusal TinyCRM would have sent
// as a problem document, answered without one: a 4xx or a 501 from a
// server that is not TinyCRM (a static file server, another API, a wrong
// path behind a proxy). A 408, 413 or 429, and other 5xx, may come from a
// proxy in front of a real TinyCRM, so they are not taken for that.
func foreignRefusal(err error) (int, bool) {
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Problem {
		return 0, false
	}
	switch s := ae.Status; {
	case s == http.StatusRequestTimeout, s == http.StatusRequestEntityTooLarge, s == http.StatusTooManyRequests:
		return 0, false
	case s >= 400 && s < 500, s == http.StatusNotImplemented:
		return s, true
	}
	return 0, false
}

// describe says what went wrong and what to do about it.
func describe(err error, server, tokenFrom string) string {
	if server == "" {
		server = "the server"
	}
	var ae *client.APIError
	if status, ok := foreignRefusal(err); ok {
		return fmt.Sprintf("%s does not answer as a TinyCRM server (a %d without a problem+json body); check --server / TINYCRM_URL", server, status)
	}
	switch {
	case client.IsUnauthorized(err):
		return tokenRejected(server, tokenFrom)
	case client.IsForbidden(err):
		return fmt.Sprintf("%s refused the token: this command needs the admin token (tcrm_at_…), not a project key (tcrm_pk_…)", server)
	case errors.As(err, &ae) && ae.Status >= 500:
		return fmt.Sprintf("%s failed: %s; try again, and check the tinycrmd log if it persists", server, ae.Error())
	case errors.As(err, &ae):
		// The server's problem detail already says what is wrong.
		return clipLong(oneLine(err.Error()))
	case notTLS(err):
		return fmt.Sprintf("%s: TLS handshake failed; is the server plain http? try --server http://%s", server, strings.TrimPrefix(server, "https://"))
	case tlsFailed(err):
		return fmt.Sprintf("%s: TLS handshake failed (%s); check the address, or the server's certificate", server, clipLong(oneLine(tlsReason(err))))
	case unreachable(err):
		return fmt.Sprintf("cannot reach %s: is tinycrmd running? start it with \"tinycrmd\" or try \"tinycrm demo\"", server)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("%s did not answer in time: %s", server, oneLine(err.Error()))
	}
	return clipLong(oneLine(err.Error()))
}

// tokenRejected says that server refused the token, and how to fix it
// where the token came from: a flag, the environment (which overrides the
// login config, so logging in again would not help), the login config, or
// the local daemon's admin.token.
func tokenRejected(server, from string) string {
	login := fmt.Sprintf("\"tinycrm login --server %s --token tcrm_at_…\"", server)
	switch {
	case from == "--token":
		return fmt.Sprintf("token rejected by %s: the --token value is not an admin token of this server; pass its admin token (tcrm_at_…)", server)
	case from == "TINYCRM_TOKEN":
		return fmt.Sprintf("token rejected by %s: the token in TINYCRM_TOKEN is not an admin token of this server; set TINYCRM_TOKEN to its admin token (tcrm_at_…), or unset it to use the login config", server)
	case strings.HasPrefix(from, "config file "):
		return fmt.Sprintf("token rejected by %s: the token saved in %s is not an admin token of this server (revoked, or another server's); run %s with its admin token",
			server, strings.TrimPrefix(from, "config file "), login)
	case from != "":
		return fmt.Sprintf("token rejected by %s: the token in %s is not this server's admin token (is the server running on another data dir?); set TINYCRM_DATA_DIR to its data dir, or run %s",
			server, from, login)
	}
	return fmt.Sprintf("token rejected by %s: run %s with the admin token, or set TINYCRM_TOKEN", server, login)
}

// maxEcho is how much of the user's input (an email, a name, a slug) an
// error message repeats.
const maxEcho = 64

// clip shortens text the user typed for an error message: at most maxEcho
// characters, then "…". A 20 KB argument is not worth repeating whole.
func clip(s string) string { return clipTo(s, maxEcho) }

// maxMessage bounds a message that is not ours (the server's problem
// detail, a wrapped error): whatever it echoes, the line stays readable.
const maxMessage = 400

// clipLong shortens a whole message to maxMessage characters.
func clipLong(s string) string { return clipTo(s, maxMessage) }

// clipTo cuts s after max characters, marking the cut with "…".
func clipTo(s string, max int) string {
	n := 0
	for i := range s {
		if n == max {
			return s[:i] + "…"
		}
		n++
	}
	return s
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

// notTLS reports whether a server that should have started a TLS
// handshake answered with something else, such as plain HTTP.
func notTLS(err error) bool {
	var rh tls.RecordHeaderError
	return errors.Is(err, http.ErrSchemeMismatch) || errors.As(err, &rh)
}

// tlsFailed reports whether err is another failed TLS handshake: a
// certificate this machine does not trust or that names another host, or
// a TLS alert.
func tlsFailed(err error) bool {
	var (
		alert tls.AlertError
		cv    *tls.CertificateVerificationError
		ua    x509.UnknownAuthorityError
		hn    x509.HostnameError
		ci    x509.CertificateInvalidError
	)
	return errors.As(err, &alert) || errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci)
}

// tlsReason is the TLS library's own words for a failed handshake, without
// the request that hit it.
func tlsReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// oneLine folds a message onto one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

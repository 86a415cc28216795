package store

import (
	"errors"
	"io"
	"net"
	"syscall"
)

// isNetError reports whether err comes from the network below the driver:
// a reset or refused connection, or a socket closed mid-statement.
func isNetError(err error) bool {
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ENOENT)
}

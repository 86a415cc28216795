package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// outputFile is where a command writes with -o PATH:
//   - "" or "-": stdout;
//   - a regular file, or a path that does not exist yet: a temporary file
//     next to it, renamed over it by Commit, so a failed run never leaves
//     a half-written file; through a symlink, the file it points to is the
//     one replaced, and the link stays;
//   - anything else (/dev/null, a FIFO, a terminal, a device) is opened
//     and written directly: it cannot be replaced by a rename, and a
//     reader of a FIFO must get the data.
type outputFile struct {
	W      io.Writer
	op     string   // for messages: "export to"
	path   string   // as given
	target string   // the file replaced by Commit (the symlink's target)
	tmp    *os.File // atomic: the temporary file
	direct *os.File // written in place
	done   bool
}

// openOutput opens the -o PATH of a command (see outputFile); op starts
// its error messages ("export to").
func openOutput(app *App, op, path string) (*outputFile, error) {
	if path == "" || path == "-" {
		return &outputFile{W: app.Out, op: op, path: path}, nil
	}
	o := &outputFile{op: op, path: path, target: path}
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		resolved, err := filepath.EvalSymlinks(path)
		if err != nil {
			// A dangling link: write through it, which creates its target.
			return o.openDirect(os.O_CREATE | os.O_TRUNC)
		}
		o.target = resolved
	}
	fi, err := os.Stat(o.target)
	switch {
	case err == nil && fi.IsDir():
		return nil, fmt.Errorf("%s is a directory; give -o a file name", path)
	case err == nil && !fi.Mode().IsRegular():
		return o.openDirect(0)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s %s: %w", op, path, err)
	}
	mode := fs.FileMode(0o600) // customer data: only for its owner
	if err == nil {
		mode = fi.Mode().Perm() // replacing a file keeps its permissions
	}
	dir, base := filepath.Split(o.target)
	if dir == "" {
		dir = "."
	}
	if o.tmp, err = os.CreateTemp(dir, "."+base+".*.tmp"); err != nil {
		// Only a directory that is not there is "no directory": /proc, for
		// one, is there and refuses new files with the same ENOENT.
		if _, serr := os.Stat(dir); errors.Is(serr, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s %s: there is no directory %s", op, path, dir)
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // not the temporary file's name
		}
		return nil, fmt.Errorf("%s %s: cannot create a file in %s: %w", op, path, dir, err)
	}
	if err := o.tmp.Chmod(mode); err != nil {
		o.Abort()
		return nil, fmt.Errorf("%s %s: %w", op, path, err)
	}
	o.W = o.tmp
	return o, nil
}

func (o *outputFile) openDirect(flags int) (*outputFile, error) {
	f, err := os.OpenFile(o.path, os.O_WRONLY|flags, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", o.op, o.path, err)
	}
	o.direct, o.W = f, f
	return o, nil
}

// Stdout reports whether the output is stdout.
func (o *outputFile) Stdout() bool { return o.tmp == nil && o.direct == nil }

// Atomic reports whether nothing reaches PATH before Commit.
func (o *outputFile) Atomic() bool { return o.tmp != nil }

// Name is PATH for messages: "stdout" for stdout.
func (o *outputFile) Name() string {
	if o.Stdout() {
		return "stdout"
	}
	return o.path
}

// Commit completes the output: the temporary file replaces the target.
func (o *outputFile) Commit() error {
	switch {
	case o.done:
		return nil
	case o.tmp != nil:
		if err := o.tmp.Sync(); err != nil {
			o.Abort()
			return fmt.Errorf("%s %s: %w", o.op, o.path, err)
		}
		if err := o.tmp.Close(); err != nil {
			o.Abort()
			return fmt.Errorf("%s %s: %w", o.op, o.path, err)
		}
		if err := os.Rename(o.tmp.Name(), o.target); err != nil {
			os.Remove(o.tmp.Name())
			o.done = true
			return fmt.Errorf("%s %s: %w", o.op, o.path, err)
		}
	case o.direct != nil:
		if err := o.direct.Close(); err != nil {
			o.done = true
			return fmt.Errorf("%s %s: %w", o.op, o.path, err)
		}
	}
	o.done = true
	return nil
}

// Abort gives up: the temporary file is removed and PATH left as it was
// (written in place, it keeps what was written). It is safe after Commit.
func (o *outputFile) Abort() {
	if o.done {
		return
	}
	o.done = true
	switch {
	case o.tmp != nil:
		o.tmp.Close()
		os.Remove(o.tmp.Name())
	case o.direct != nil:
		o.direct.Close()
	}
}

package rsaenc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/wxpay-chain/wxpay/internal/keytext"
)

// loadError is a loader's error. Its message never holds key text; it
// unwraps to the file system's cause (so errors.Is(err, fs.ErrNotExist)
// holds for a missing file) but never to an *fs.PathError, whose message
// would quote the value.
type loadError struct {
	msg string
	err error
}

func (e *loadError) Error() string { return "rsaenc: " + e.msg }
func (e *loadError) Unwrap() error { return e.err }

// load loads what (a "private key", ...) from s, key text or the name of a
// file, with parse.
func load(s, what string, parse func([]byte) error) error {
	if s == "" {
		return &loadError{msg: fmt.Sprintf("no file name or %s given", what)}
	}
	if keytext.IsKeyText(s) {
		if err := parse([]byte(s)); err != nil {
			return keyTextError(s, what, err)
		}
		return nil
	}
	data, err := os.ReadFile(s)
	if err != nil {
		return fileError(s, what, err)
	}
	if err := parse(data); err != nil {
		// The file was read: s is a file name, not key text.
		return &loadError{msg: fmt.Sprintf("%s file %q: %s", what, s, strings.TrimPrefix(err.Error(), "rsaenc: "))}
	}
	return nil
}

// keyTextError reports key text that did not parse, without quoting it.
func keyTextError(s, what string, err error) error {
	reason := strings.TrimPrefix(err.Error(), "rsaenc: ")
	switch {
	case strings.Contains(s, "-----BEGIN"):
		return &loadError{msg: fmt.Sprintf("the value is PEM text without a usable %s (value not shown): %s", what, reason)}
	case strings.HasPrefix(reason, "base64 text "):
		return &loadError{msg: fmt.Sprintf("the value is %s (value not shown)", reason)}
	case keytext.DERFromBase64([]byte(s)) != nil:
		return &loadError{msg: fmt.Sprintf("the value is base64 text without a usable %s (value not shown): %s", what, reason)}
	}
	return &loadError{msg: fmt.Sprintf("the value is neither a readable file nor a PEM or base64 %s (value not shown)", what)}
}

// fileError reports a file that could not be read, naming it only when the
// name cannot be a piece of a key.
func fileError(s, what string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if keytext.Showable(s) {
		return &loadError{msg: fmt.Sprintf("%s file %q: %v", what, s, err), err: err}
	}
	return &loadError{msg: fmt.Sprintf("the value is neither a readable file (%v) nor a PEM or base64 %s (value not shown)", err, what), err: err}
}

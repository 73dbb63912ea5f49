// Package pathcause gives the cause of a file operation's error without
// the *fs.PathError around it, for messages that name the path already
// ("writing out.csv: permission denied", not "...: open out.csv:
// permission denied").
package pathcause

import (
	"errors"
	"io/fs"
)

// Of is err's cause when err is an *fs.PathError, else err.
func Of(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

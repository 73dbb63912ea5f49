//go:build !unix

package report

import "os"

// umask: no file mode creation mask outside Unix; 0644 as before.
var umask os.FileMode = 0o022

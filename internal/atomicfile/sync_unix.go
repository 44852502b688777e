//go:build unix

package atomicfile

import (
	"errors"
	"os"
	"syscall"
)

// fsyncDir fsyncs the directory dir, making a rename in it durable. File systems that cannot
// sync a directory (EINVAL) are not an error.
func fsyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) {
		return nil
	}
	return err
}

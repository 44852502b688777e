//go:build !unix

package memlimit

// addressLimit: no address-space limit is known off unix.
func addressLimit() (uint64, bool) { return 0, false }

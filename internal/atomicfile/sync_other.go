//go:build !unix

package atomicfile

// fsyncDir does nothing where directories cannot be opened and synced portably.
func fsyncDir(string) error { return nil }

//go:build unix

package memlimit

import "syscall"

// addressLimit returns the process's address-space limit (RLIMIT_AS, as `ulimit -v` sets
// it) and true, or false when there is none.
func addressLimit() (uint64, bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &rl); err != nil || rl.Cur == ^uint64(0) {
		return 0, false
	}
	return rl.Cur, true
}

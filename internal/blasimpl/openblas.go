//go:build openblas && cgo

package blasimpl

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
*/
import "C"

import (
	"fmt"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

// OpenBLAS reports whether blas64 is routed to OpenBLAS (true in the openblas build).
const OpenBLAS = true

func init() {
	C.openblas_set_num_threads(1)
	blas64.Use(netlib.Implementation{})
	spareThreads(2*runtime.GOMAXPROCS(0) + 4)
}

// spareThreads makes the Go runtime create n OS threads now and keep them idle.
//
// A cgo call longer than a few tens of µs (any sizeable dgemm) lets the runtime hand the
// caller's P to another thread; when no idle thread exists it creates one, and creating a
// thread makes a handful of heap allocations. Without spare threads, steady-state loops
// that are allocation-free in the default build would allocate now and then in this one.
// Each goroutine below locks itself to a thread and blocks, which makes the runtime start
// a new thread for the P it leaves; once they unlock and return, the threads stay idle in
// the runtime's pool (Go never destroys an idle thread).
func spareThreads(n int) {
	var started sync.WaitGroup
	release := make(chan struct{})
	var done sync.WaitGroup
	for range n {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			runtime.LockOSThread()
			started.Done()
			<-release
			runtime.UnlockOSThread()
		}()
	}
	started.Wait()
	close(release)
	done.Wait()
}

// Name describes the BLAS behind blas64, e.g. "OpenBLAS 0.3.21 (Cooperlake kernels), 1 thread".
func Name() string {
	return fmt.Sprintf("%s (%s kernels), %d thread(s)", version(), C.GoString(C.openblas_get_corename()), Threads())
}

// Threads returns the number of threads OpenBLAS uses for one call (1 unless changed by
// another caller of openblas_set_num_threads).
func Threads() int { return int(C.openblas_get_num_threads()) }

// version returns the first words of openblas_get_config, "OpenBLAS 0.3.21".
func version() string {
	cfg := C.GoString(C.openblas_get_config())
	n, spaces := 0, 0
	for n < len(cfg) {
		if cfg[n] == ' ' {
			spaces++
			if spaces == 2 {
				break
			}
		}
		n++
	}
	return cfg[:n]
}

//go:build openblas && cgo

package blasimpl

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
*/
import "C"

import (
	"fmt"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

// OpenBLAS reports whether blas64 is routed to OpenBLAS (true in the openblas build).
const OpenBLAS = true

func init() {
	C.openblas_set_num_threads(1)
	blas64.Use(netlib.Implementation{})
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

package kernel_test

// The test binary links internal/blasimpl, as every program using this package does
// (package model imports it), so that blas64 is the process's BLAS in these tests too:
// kernel.BLAS where the assembly runs in the default build (TestOwnBLAS checks that),
// OpenBLAS in the openblas build (where TestBLASRoute's products go). internal/blasimpl
// imports this package, so only an external test package can import it.
import _ "github.com/sgdprior/sgdprior/internal/blasimpl"

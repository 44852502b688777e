// Package kernel holds sgdprior's numerical kernels: a packed, cache-blocked GEMM with
// register-blocked micro-kernels (GemmCtx.Gemm, GemmCtx.SyrkLower), the helper pool that
// shares large products and callers' own tasks between goroutines (Pool, Task), vector
// kernels (Dot, ScaleTo, AxpbyTo), the elementwise tanh and exponential of the networks'
// activations and softmax (TanhInPlace, ExpNonPosInPlace), the fused update of the SGD
// inner loop (SGDUpdate) and, in the default build, a gonum BLAS whose Dgemm and Dsyrk run
// on this GEMM (BLAS).
//
// On amd64 the kernels are AVX2 (+FMA) assembly where the CPU has it (HasAsm); elsewhere, or
// with the purego build tag, portable Go. Either way an element's result does not depend on
// the number of threads, on how a product is split between them or on where the element
// lies in a slice or tile, so results are bitwise identical for any GOMAXPROCS (on a given
// machine and build). The openblas build may route large products to OpenBLAS through
// blas64 (gemm_openblas.go) where the assembly micro-kernel does not run.
//
// The package never changes the process's BLAS: internal/blasimpl alone decides what
// blas64 uses (and registers BLAS in the default build). Its importers (package model)
// import internal/blasimpl too.
package kernel

// HasAsm reports whether the AVX2+FMA micro-kernel and vector kernels run: on amd64 where
// the CPU has AVX2 and FMA, and the purego build tag is not set.
func HasAsm() bool { return useAsm }

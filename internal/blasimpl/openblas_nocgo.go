//go:build openblas && !cgo

package blasimpl

// The openblas build links OpenBLAS through cgo: build with CGO_ENABLED=1 and a C compiler,
// with libopenblas-dev installed. The undefined name below makes the mistake a compile error
// that says so.
var _ = the_openblas_build_tag_needs_cgo_CGO_ENABLED_1_and_libopenblas_dev

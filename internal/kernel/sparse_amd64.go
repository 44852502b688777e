//go:build amd64 && !purego

package kernel

// sparseRowAVX is SparseGather's work on one row for the first n columns (n a multiple of 4).
//
//go:noescape
func sparseRowAVX(n, nnz int, alpha float64, idx *uint16, val, src *float64, lds int, dst *float64, rows int) bool

//go:noescape
func sparseRowAVX512(n, nnz int, alpha float64, idx *uint16, val, src *float64, lds int, dst *float64, rows int) bool

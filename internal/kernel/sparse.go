package kernel

import "fmt"

// SparseGather adds α·Σ_k val[k]·src[idx[k]·lds : idx[k]·lds+n] to each row r of dst
// (dst[r·ldd : r·ldd+n]), k running over ptr[r] ≤ k < ptr[r+1], for the len(ptr)−1 rows:
// the product of a sparse matrix in compressed rows (ptr, idx, val) with the dense matrix
// src, added to dst. Each output row is summed in registers over its k in order, then
// scaled by α and added to dst, as a GEMM with β = 1 sums a k-block; only the order of the
// sum differs from a dense product that skips nothing, so the two agree to round-off.
//
// It is the first layer's product with sparse features (MNIST images are 81% zeros): with
// src the first layer's weights transposed it gives X Wᵀ row by row; with the columns of a
// chunk of X (compressed columns) and src the chunk's Δ it gives the rows of (Δᵀ X)ᵀ.
func SparseGather(n int, alpha float64, ptr []int32, idx []uint16, val, src []float64, lds int, dst []float64, ldd int) {
	rows := len(ptr) - 1
	if rows <= 0 || n == 0 {
		return
	}
	if n < 0 || ldd < n || lds < n {
		panic(fmt.Sprintf("kernel: SparseGather: n = %d, lds = %d, ldd = %d", n, lds, ldd))
	}
	if e := int(ptr[rows]); e > len(idx) || e > len(val) || ptr[0] < 0 {
		panic(fmt.Sprintf("kernel: SparseGather: ptr ends at %d, %d indices, %d values", e, len(idx), len(val)))
	}
	_ = dst[(rows-1)*ldd+n-1]
	srcRows := 0 // the rows of src a full-width row slice fits in
	if len(src) >= n {
		srcRows = (len(src)-n)/lds + 1
	}
	for r := 0; r < rows; r++ {
		k0, k1 := ptr[r], ptr[r+1]
		if k1 <= k0 {
			continue
		}
		ix, vs := idx[k0:k1], val[k0:k1]
		d := dst[r*ldd : r*ldd+n]
		c := 0
		ok := true
		if usePair {
			if c = n &^ 63; c > 0 {
				ok = sparseRowAVX512(c, len(ix), alpha, &ix[0], &vs[0], &src[0], lds, &d[0], srcRows)
			}
		}
		if useAsm && ok {
			if c4 := (n - c) &^ 3; c4 > 0 {
				ok = sparseRowAVX(c4, len(ix), alpha, &ix[0], &vs[0], &src[c], lds, &d[c], srcRows)
				c += c4
			}
		}
		if !ok {
			panic(fmt.Sprintf("kernel: SparseGather: row %d has an index beyond src's %d rows", r, srcRows))
		}
		sparseRowGo(d, c, n, alpha, ix, vs, src, lds)
	}
}

// sparseRowGo is SparseGather's work on one row for the columns c0 ≤ c < n.
func sparseRowGo(d []float64, c0, n int, alpha float64, ix []uint16, vs, src []float64, lds int) {
	for c := c0; c < n; c++ {
		var s float64
		for k, i := range ix {
			s += vs[k] * src[int(i)*lds+c]
		}
		d[c] += alpha * s
	}
}

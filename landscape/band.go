package landscape

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
)

// bandLU is an n×n band matrix with kl sub- and ku super-diagonals and, after factorize, its
// LU factorisation with partial pivoting (the algorithm of LAPACK's dgbtf2, row-major
// storage). Row i stores columns i−kl … i+kl+ku (the extra kl for the fill-in of the row
// interchanges) at a[i*w + j − i + kl], w = 2kl + ku + 1.
type bandLU struct {
	n, kl, ku, w int
	a            []float64
	piv          []int
	factored     bool
}

func newBand(n, kl, ku int) *bandLU {
	w := 2*kl + ku + 1
	return &bandLU{n: n, kl: kl, ku: ku, w: w, a: make([]float64, n*w), piv: make([]int, n)}
}

// add adds v to entry (i, j), which must lie within the band.
func (b *bandLU) add(i, j int, v float64) {
	if j < i-b.kl || j > i+b.ku {
		panic(fmt.Sprintf("landscape: band entry (%d, %d) outside kl = %d, ku = %d", i, j, b.kl, b.ku))
	}
	b.a[i*b.w+j-i+b.kl] += v
}

// setRowUnit replaces row i by the i-th unit row.
func (b *bandLU) setRowUnit(i int) {
	row := b.a[i*b.w : (i+1)*b.w]
	clear(row)
	row[b.kl] = 1
}

// factorize computes the LU factorisation in place. It fails on an exactly zero pivot.
func (b *bandLU) factorize() error {
	n, kl, ku, w := b.n, b.kl, b.ku, b.w
	for k := 0; k < n; k++ {
		last := min(n-1, k+kl)
		p, best := k, math.Abs(b.a[k*w+kl])
		for i := k + 1; i <= last; i++ {
			if v := math.Abs(b.a[i*w+k-i+kl]); v > best {
				p, best = i, v
			}
		}
		b.piv[k] = p
		if best == 0 {
			return fmt.Errorf("singular matrix (zero pivot in column %d)", k)
		}
		jmax := min(n-1, k+kl+ku)
		if p != k {
			for j := k; j <= jmax; j++ {
				ik, ip := k*w+j-k+kl, p*w+j-p+kl
				b.a[ik], b.a[ip] = b.a[ip], b.a[ik]
			}
		}
		piv := b.a[k*w+kl]
		rowk := b.a[k*w+kl-k:] // rowk[j] = entry (k, j)
		for i := k + 1; i <= last; i++ {
			rowi := b.a[i*w+kl-i:] // rowi[j] = entry (i, j)
			l := rowi[k] / piv
			if math.Abs(l) < 1e-150 {
				// Negligible multipliers are dropped: fill-in decays geometrically away from
				// the diagonal, and subnormal numbers would slow the update a hundredfold.
				l = 0
			}
			rowi[k] = l
			if l == 0 {
				continue
			}
			floats.AddScaled(rowi[k+1:jmax+1], -l, rowk[k+1:jmax+1])
		}
	}
	b.factored = true
	return nil
}

// solve overwrites x with A⁻¹x using the factorisation.
func (b *bandLU) solve(x []float64) {
	if !b.factored {
		panic("landscape: band solve before factorize")
	}
	n, kl, ku, w := b.n, b.kl, b.ku, b.w
	for k := 0; k < n; k++ {
		if p := b.piv[k]; p != k {
			x[k], x[p] = x[p], x[k]
		}
		for i := k + 1; i <= min(n-1, k+kl); i++ {
			x[i] -= b.a[i*w+k-i+kl] * x[k]
		}
	}
	for i := n - 1; i >= 0; i-- {
		row := b.a[i*w+kl-i:]
		hi := min(n-1, i+kl+ku) + 1
		x[i] = (x[i] - floats.Dot(row[i+1:hi], x[i+1:hi])) / row[i]
	}
}

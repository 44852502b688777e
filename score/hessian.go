package score

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/sgdprior/sgdprior/linalg"
)

// hessian is the Hessian H of the objective on the covariance examples: dense (SolverDense)
// or known through its products only.
type hessian struct {
	dense *mat.SymDense
}

// hOperator is the SymOperator of H at the computation's θ.
type hOperator struct{ c *computation }

func (o hOperator) Dim() int { return o.c.src.dim() }
func (o hOperator) Apply(dst, x []float64) {
	o.c.src.hessVec(dst, o.c.theta, x)
}

// denseHessian forms H column by column from d Hessian–vector products with unit vectors
// (or copies a given Hessian) and symmetrises it.
func (c *computation) denseHessian() *mat.SymDense {
	if g, ok := c.src.(*gradsSource); ok {
		return g.h
	}
	return DenseHessian(hOperator{c})
}

// commutatorGroup is the number of commutator probes whose Hessian products are computed
// in one pass (5 vectors of length d each).
const commutatorGroup = 4

// hessianAndCommutator forms H when the solver is dense and computes the commutator
// ‖CH − HC‖_F / (‖C‖_F ‖H‖_F) (MATH.md §5): exactly from the dense matrices, or estimated
// from CommutatorProbes Gaussian probes z by ‖A‖_F² = E‖Az‖² for A = CH − HC, C and H.
func (c *computation) hessianAndCommutator() error {
	c.hess = &hessian{}
	dg := &c.r.Diagnostics
	if c.r.Solver == SolverDense {
		c.hess.dense = c.denseHessian()
		v := linalg.Commutator(c.cs.dense, c.hess.dense)
		dg.Commutator = &v
		dg.CommutatorMethod = "dense"
		return nil
	}
	d := c.src.dim()
	p := c.set.CommutatorProbes
	rnd := rand.New(rand.NewPCG(c.set.Seed, streamCommutator))
	// Probes in groups whose Hessian products share one pass over the examples.
	g := min(p, commutatorGroup)
	z, hz, cz, chz, hcz := make([][]float64, g), make([][]float64, g), make([][]float64, g), make([][]float64, g), make([][]float64, g)
	for k := range z {
		z[k], hz[k], cz[k], chz[k], hcz[k] = make([]float64, d), make([]float64, d), make([]float64, d), make([]float64, d), make([]float64, d)
	}
	var num, nc, nh float64
	for k0 := 0; k0 < p; k0 += g {
		m := min(g, p-k0)
		for k := 0; k < m; k++ {
			for i := range z[k] {
				z[k][i] = rnd.NormFloat64()
			}
		}
		c.src.hessVecs(hz[:m], c.theta, z[:m])
		for k := 0; k < m; k++ {
			c.cs.applyC(cz[k], z[k])
			c.cs.applyC(chz[k], hz[k])
		}
		c.src.hessVecs(hcz[:m], c.theta, cz[:m])
		for k := 0; k < m; k++ {
			floats.Sub(chz[k], hcz[k])
			num += floats.Dot(chz[k], chz[k])
			nc += floats.Dot(cz[k], cz[k])
			nh += floats.Dot(hz[k], hz[k])
		}
	}
	v := 0.0
	if nc > 0 && nh > 0 {
		v = math.Sqrt(num/float64(p)) / math.Sqrt(nc/float64(p)*nh/float64(p))
	}
	dg.Commutator = &v
	dg.CommutatorMethod = fmt.Sprintf("estimate from %d Gaussian probes (E‖Az‖² = ‖A‖_F²)", p)
	return nil
}

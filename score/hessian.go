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
	z := make([]float64, d)
	hz, cz, chz, hcz := make([]float64, d), make([]float64, d), make([]float64, d), make([]float64, d)
	hop := hOperator{c}
	var num, nc, nh float64
	for k := 0; k < p; k++ {
		for i := range z {
			z[i] = rnd.NormFloat64()
		}
		hop.Apply(hz, z)
		c.cs.applyC(cz, z)
		c.cs.applyC(chz, hz)
		hop.Apply(hcz, cz)
		floats.Sub(chz, hcz)
		num += floats.Dot(chz, chz)
		nc += floats.Dot(cz, cz)
		nh += floats.Dot(hz, hz)
	}
	v := 0.0
	if nc > 0 && nh > 0 {
		v = math.Sqrt(num/float64(p)) / math.Sqrt(nc/float64(p)*nh/float64(p))
	}
	dg.Commutator = &v
	dg.CommutatorMethod = fmt.Sprintf("estimate from %d Gaussian probes (E‖Az‖² = ‖A‖_F²)", p)
	return nil
}

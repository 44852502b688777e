package model_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/sgdprior/sgdprior/model"
	"gonum.org/v1/gonum/mat"
)

// Logistic regression on four examples: the mean NLL, its gradient (layout: w then b) and
// the per-example gradients.
func Example() {
	m, err := model.New("logistic", 2, 2, model.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	b := model.Batch{
		X: mat.NewDense(4, 2, []float64{1, 2, 2, 1, -1, -2, -2, -1}),
		Y: []float64{1, 1, 0, 0},
	}
	theta := []float64{0, 0, 0} // w1, w2, b: every example has p = 1/2
	grad := make([]float64, m.NumParams())
	fmt.Printf("loss %.6f\n", m.Loss(grad, theta, b)) // log 2
	fmt.Printf("grad %.3f\n", grad)
	var G mat.Dense
	m.PerExampleGrads(&G, theta, b)
	fmt.Printf("g_0 %.3f\n", G.RawRowView(0))
	// Output:
	// loss 0.693147
	// grad [-0.750 -0.750 0.000]
	// g_0 [-0.500 -1.000 -0.500]
}

func ExampleInitParams() {
	m, _ := model.New("mlp:3", 2, 2, model.Options{})
	theta := make([]float64, m.NumParams())
	model.InitParams(theta, m, rand.New(rand.NewPCG(1, 2)))
	for _, l := range m.(*model.Network).Layers() {
		fmt.Printf("%d×%d weights at %d, bias at %d\n", l.Out, l.In, l.WeightOffset, l.BiasOffset)
	}
	fmt.Println(m.(*model.Network).ParamName(7))
	// Output:
	// 3×2 weights at 0, bias at 6
	// 2×3 weights at 9, bias at 15
	// b1[1]
}

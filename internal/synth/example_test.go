package synth_test

import (
	"fmt"

	"github.com/sgdprior/sgdprior/internal/synth"
)

func ExampleLinear() {
	d := synth.Linear(synth.LinearSettings{N: 1000, AR1: 0.5, Hetero: 1, Seed: 1})
	fmt.Println(d.Len(), d.NumFeatures(), d.Classes == nil)
	// Output:
	// 1000 5 true
}

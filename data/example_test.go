package data_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/sgdprior/sgdprior/data"
)

func ExampleLoad() {
	d, err := data.Load(data.Spec{Source: "iris"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Len(), d.NumFeatures(), d.Classes)
	fmt.Printf("sepal_length: mean %.4f, std %.4f\n", d.Standardization.Mean[0], d.Standardization.Std[0])
	// Output:
	// 150 4 [setosa versicolor virginica]
	// sepal_length: mean 5.8433, std 0.8253
}

func ExampleLoad_regression() {
	d, err := data.Load(data.Spec{Source: "diabetes", Regression: true})
	if err != nil {
		log.Fatal(err)
	}
	st := d.Standardization
	fmt.Printf("%d×%d, target mean %.2f, std %.2f\n", d.Len(), d.NumFeatures(), st.YMean, st.YStd)
	// Output:
	// 442×10, target mean 152.13, std 77.01
}

func ExampleWriteVector() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "theta.npy")
	if err := data.WriteVector(path, []float64{0.5, -1, 2}); err != nil {
		log.Fatal(err)
	}
	theta, err := data.ReadVector(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(theta)
	// Output:
	// [0.5 -1 2]
}

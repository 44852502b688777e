package landscape

import (
	"context"
	"testing"

	"github.com/sgdprior/sgdprior/noise"
)

func BenchmarkWellsMoments(b *testing.B) {
	w, err := NewWells(WellsSettings{})
	if err != nil {
		b.Fatal(err)
	}
	g, c := make([]float64, 1), make([]float64, 1)
	x := []float64{0.3}
	for b.Loop() {
		w.Moments(g, c, x)
	}
}

func BenchmarkExact1DWells(b *testing.B) {
	w, err := NewWells(WellsSettings{})
	if err != nil {
		b.Fatal(err)
	}
	lr, bs := w.Defaults()
	k := mustKappa(b, noise.Without, w.NumExamples(), bs)
	for b.Loop() {
		if _, err := Exact1D(w, lr, k, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStationary2DFPOU2D(b *testing.B) {
	o, err := NewOU2D(OU2DSettings{})
	if err != nil {
		b.Fatal(err)
	}
	lr, _ := o.Defaults()
	for b.Loop() {
		if _, err := Stationary2DFP(o, lr, 1, &FP2DSettings{NX: 100, NY: 100}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStationary2DFPWells2D(b *testing.B) {
	w, err := NewWells2D(Wells2DSettings{})
	if err != nil {
		b.Fatal(err)
	}
	lr, _ := w.Defaults()
	for b.Loop() {
		if _, err := Stationary2DFP(w, lr, 1, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBandLU(b *testing.B) {
	const n, bw = 10000, 101
	for b.Loop() {
		m := newBand(n, bw, bw)
		for i := range n {
			m.add(i, i, 4)
			if i+1 < n {
				m.add(i, i+1, -1)
				m.add(i+1, i, -1)
			}
			if i+bw < n {
				m.add(i, i+bw, -1)
				m.add(i+bw, i, -1)
			}
		}
		if err := m.factorize(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSimulateSGDWells(b *testing.B) {
	w, err := NewWells(WellsSettings{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Simulate(context.Background(), w, SimSettings{Time: 100000, Chains: 2}); err != nil {
			b.Fatal(err)
		}
	}
}

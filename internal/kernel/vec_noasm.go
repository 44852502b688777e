//go:build !amd64 || purego

package kernel

// Dot returns Σ x[i]·y[i] (len(y) ≥ len(x)).
func Dot(x, y []float64) float64 { return dotGo(x, y) }

// ScaleTo sets dst[i] = α·x[i] (len(dst) ≥ len(x)).
func ScaleTo(dst []float64, alpha float64, x []float64) { scaleToGo(dst, alpha, x) }

// AxpbyTo sets dst[i] = α·x[i] + β·y[i] (len(y), len(dst) ≥ len(x)); dst may alias x or y.
func AxpbyTo(dst []float64, alpha float64, x []float64, beta float64, y []float64) {
	axpbyToGo(dst, alpha, x, beta, y)
}

func tanhAVX(n int, x *float64) { panic("unreachable") }

func expAVX(n int, x *float64) { panic("unreachable") }

//go:build amd64 && !purego

package kernel

//go:noescape
func dotAVX(n int, x, y *float64) float64

//go:noescape
func scaleAVX(n int, alpha float64, x, dst *float64)

//go:noescape
func axpbyAVX(n int, alpha float64, x *float64, beta float64, y, dst *float64)

// Dot returns Σ x[i]·y[i] (len(y) ≥ len(x)).
func Dot(x, y []float64) float64 {
	if useAsm && len(x) > 0 {
		_ = y[len(x)-1]
		return dotAVX(len(x), &x[0], &y[0])
	}
	return dotGo(x, y)
}

// ScaleTo sets dst[i] = α·x[i] (len(dst) ≥ len(x)).
func ScaleTo(dst []float64, alpha float64, x []float64) {
	if useAsm && len(x) > 0 {
		_ = dst[len(x)-1]
		scaleAVX(len(x), alpha, &x[0], &dst[0])
		return
	}
	scaleToGo(dst, alpha, x)
}

// AxpbyTo sets dst[i] = α·x[i] + β·y[i] (len(y), len(dst) ≥ len(x)); dst may alias x or y.
func AxpbyTo(dst []float64, alpha float64, x []float64, beta float64, y []float64) {
	if useAsm && len(x) > 0 {
		_ = dst[len(x)-1]
		_ = y[len(x)-1]
		axpbyAVX(len(x), alpha, &x[0], beta, &y[0], &dst[0])
		return
	}
	axpbyToGo(dst, alpha, x, beta, y)
}

//go:noescape
func tanhAVX(n int, x *float64)

//go:noescape
func expAVX(n int, x *float64)

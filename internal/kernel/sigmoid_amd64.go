//go:build amd64 && !purego

package kernel

// sigmoidDeltaAVX: see sigmoid_amd64.s.
//
//go:noescape
func sigmoidDeltaAVX(rows, cols int, z, w, y, t *float64) (done int)

// gaussDeltaAVX: see sigmoid_amd64.s.
//
//go:noescape
func gaussDeltaAVX(rows, cols int, z, w, y, t *float64, invVar float64)

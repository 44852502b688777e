package landscape

import (
	"math"
	"strconv"
)

// WellBreadths returns a flatness measure for each well of r (larger is flatter): the width
// of the preset's Gaussian well whose centre is nearest the well's minimum, read from r's
// Params (width<k> with center<k> in 1-D, or center<k>_x and center<k>_y in 2-D, k = 0, 1, …
// until width<k> is absent; nearest in Euclidean distance, the first on ties). ok is false
// when the preset has no widths (ou, multiplicative, ou2d), a centre is missing, or its
// dimension is not the wells', or a well's minimum is null. A result without wells has breadths [] and ok true.
func WellBreadths(r *Result) (breadth []float64, ok bool) {
	breadth = make([]float64, len(r.Wells))
	if len(r.Wells) == 0 {
		return breadth, true
	}
	type gauss struct {
		center []float64
		width  float64
	}
	var params []gauss
	for k := 0; ; k++ {
		key := strconv.Itoa(k)
		w, okw := r.Params["width"+key]
		if !okw {
			break
		}
		var c []float64
		if x, ok1 := r.Params["center"+key]; ok1 {
			c = []float64{x}
		} else {
			x, okx := r.Params["center"+key+"_x"]
			y, oky := r.Params["center"+key+"_y"]
			if !okx || !oky {
				return nil, false
			}
			c = []float64{x, y}
		}
		params = append(params, gauss{c, w})
	}
	if len(params) == 0 {
		return nil, false
	}
	for i, w := range r.Wells {
		best, bestD := -1, math.Inf(1)
		for k, p := range params {
			if len(p.center) != len(w.Center) {
				return nil, false
			}
			var d2 float64
			for a := range p.center {
				d := p.center[a] - float64(w.Center[a])
				d2 += d * d
			}
			if d2 < bestD {
				best, bestD = k, d2
			}
		}
		if best < 0 { // the centre is null
			return nil, false
		}
		breadth[i] = params[best].width
	}
	return breadth, true
}

package report

import (
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// contourLines is a plot.Plotter that draws the contour lines of a grid field at given
// levels by marching squares, joining the segments into polylines. Unlike plotter.Contour,
// whose path order depends on map iteration, it draws the same paths in the same order on
// every run, so that a re-rendered report is byte-identical.
type contourLines struct {
	g      gridField
	levels []float64
	style  draw.LineStyle
}

// edgePoint identifies where a contour crosses a grid edge: the edge from node (i, j) to
// (i+1, j) (horizontal) or to (i, j+1) (vertical).
type edgePoint struct {
	i, j     int
	vertical bool
}

type segment struct{ a, b edgePoint }

// polylines returns the contour of g at level z as polylines of edge points, in a
// deterministic order.
func (c *contourLines) polylines(z float64) [][]edgePoint {
	nx, ny := c.g.Dims()
	val := func(i, j int) float64 { return c.g.Z(i, j) }
	var segs []segment
	for j := 0; j+1 < ny; j++ {
		for i := 0; i+1 < nx; i++ {
			v := [4]float64{val(i, j), val(i+1, j), val(i+1, j+1), val(i, j+1)}
			if math.IsNaN(v[0] + v[1] + v[2] + v[3]) {
				continue
			}
			// Corners 0..3 counter-clockwise; edges 0: bottom, 1: right, 2: top, 3: left.
			edges := [4]edgePoint{{i, j, false}, {i + 1, j, true}, {i, j + 1, false}, {i, j, true}}
			var cross []int
			for e := 0; e < 4; e++ {
				a, b := v[e], v[(e+1)%4]
				if (a < z) != (b < z) {
					cross = append(cross, e)
				}
			}
			switch len(cross) {
			case 2:
				segs = append(segs, segment{edges[cross[0]], edges[cross[1]]})
			case 4:
				// A saddle cell: pair the crossings by the value at the centre.
				centre := (v[0] + v[1] + v[2] + v[3]) / 4
				if (centre < z) == (v[0] < z) {
					segs = append(segs, segment{edges[0], edges[1]}, segment{edges[2], edges[3]})
				} else {
					segs = append(segs, segment{edges[3], edges[0]}, segment{edges[1], edges[2]})
				}
			}
		}
	}
	at := make(map[edgePoint][]int, 2*len(segs))
	for k, s := range segs {
		at[s.a] = append(at[s.a], k)
		at[s.b] = append(at[s.b], k)
	}
	used := make([]bool, len(segs))
	next := func(p edgePoint) (int, bool) {
		for _, k := range at[p] {
			if !used[k] {
				return k, true
			}
		}
		return 0, false
	}
	var lines [][]edgePoint
	for k := range segs {
		if used[k] {
			continue
		}
		used[k] = true
		line := []edgePoint{segs[k].a, segs[k].b}
		for { // forwards from the end
			n, ok := next(line[len(line)-1])
			if !ok {
				break
			}
			used[n] = true
			if segs[n].a == line[len(line)-1] {
				line = append(line, segs[n].b)
			} else {
				line = append(line, segs[n].a)
			}
		}
		var head []edgePoint
		for p := line[0]; ; { // backwards from the start
			n, ok := next(p)
			if !ok {
				break
			}
			used[n] = true
			if segs[n].a == p {
				p = segs[n].b
			} else {
				p = segs[n].a
			}
			head = append(head, p)
		}
		for l, r := 0, len(head)-1; l < r; l, r = l+1, r-1 {
			head[l], head[r] = head[r], head[l]
		}
		lines = append(lines, append(head, line...))
	}
	return lines
}

// position returns the data coordinates of the crossing at level z on edge p, by linear
// interpolation between the edge's end nodes.
func (c *contourLines) position(p edgePoint, z float64) (x, y float64) {
	i2, j2 := p.i+1, p.j
	if p.vertical {
		i2, j2 = p.i, p.j+1
	}
	a, b := c.g.Z(p.i, p.j), c.g.Z(i2, j2)
	t := 0.5
	if a != b {
		t = (z - a) / (b - a)
	}
	x = c.g.X(p.i) + t*(c.g.X(i2)-c.g.X(p.i))
	y = c.g.Y(p.j) + t*(c.g.Y(j2)-c.g.Y(p.j))
	return x, y
}

// Plot implements plot.Plotter.
func (c *contourLines) Plot(cv draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&cv)
	cv.SetLineStyle(c.style)
	for _, z := range c.levels {
		for _, line := range c.polylines(z) {
			var p vg.Path
			for k, e := range line {
				x, y := c.position(e, z)
				pt := vg.Point{X: trX(x), Y: trY(y)}
				if k == 0 {
					p.Move(pt)
				} else {
					p.Line(pt)
				}
			}
			cv.Stroke(p)
		}
	}
}

// DataRange implements plot.DataRanger.
func (c *contourLines) DataRange() (xmin, xmax, ymin, ymax float64) {
	nx, ny := c.g.Dims()
	return c.g.X(0), c.g.X(nx - 1), c.g.Y(0), c.g.Y(ny - 1)
}

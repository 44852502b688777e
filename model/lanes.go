package model

import (
	"sync"

	"github.com/sgdprior/sgdprior/internal/kernel"
)

// Lanes. A batch of more than one chunk is split between two lanes: lane j takes chunks
// j, j+2, j+4, … in order, with its own scratch space (lane 1 runs on a peer Network of
// the same architecture). Per-example results land in place; sums over examples are
// accumulated by each lane in its chunk order into its own buffer, and the lane sums are
// added at the end, lane 0 + lane 1. The split is a function of the batch size alone, so
// results are bitwise the same whether the lanes run one after the other (one chunk, small
// batches, GOMAXPROCS = 1, no idle helper) or at once on two cores.
//
// Two lanes with serial products beat one lane whose products are split between threads
// (≈ 1.3× for HessVec of mlp:128 on 4096 MNIST-shaped examples): everything between the
// large products (activations, the head, small layers, packing) runs in parallel too.

// laneParMin is the number of chunks from which the lanes run concurrently.
const laneParMin = 4

// laneOp names the chunk loop a lane runs.
type laneOp int

const (
	opLoss laneOp = iota
	opPerExampleLoss
	opGradDot
	opGradSum
	opHessVec
	opCacheGradDot
	opCacheGradSum
	opCacheMeanGrad
	opCacheBuild
	opGradDotSum
	opCacheGradDotSum
	opCovTangent
)

// laneArgs are the arguments of one batched call, shared by both lanes.
type laneArgs struct {
	op    laneOp
	nb    int
	theta []float64
	b     Batch
	vecs  [][]float64 // the directions u_k of GradDot, v_k of HessVec
	w     []float64   // weights of GradSum (length nb)
	out   []float64   // per-example results (length nb)
	outs  [][]float64 // per-example results per direction (GradDot)
	mode  headMode    // Loss
	alpha float64     // scale of the sum (Loss, HessVec, MeanGrad); α of GradDotSum's weights
	mu    float64     // μ of GradDotSum's weights
	beta  float64     // β of GradDotSum's weights
	xs    [][]float64 // the vectors x_j of CovTangents
	mus   []float64   // μ_j of CovTangents
	cache *GradCache
}

// laneJob is lane 1 of a call, handed to an idle helper (or run by the caller).
type laneJob struct {
	net  *Network // lane 1's network: same architecture, own scratch
	args *laneArgs
	acc  [][]float64 // lane 1's sums (nil when the call has none)
	buf  [][]float64 // storage behind acc (each of length d)
	loss float64     // lane 1's sum of losses
	wg   sync.WaitGroup
}

func (j *laneJob) Work(*kernel.GemmWork) { j.loss = j.net.laneRun(1, j.args, j.acc) }
func (j *laneJob) Done()                 { j.wg.Done() }

// call runs a (copied to n.la for the lanes) with at most one sum destination, and drops
// the references to the caller's slices afterwards.
func (n *Network) call(a laneArgs, sum []float64) float64 {
	n.la = a
	var sums [][]float64
	if sum != nil {
		n.sum1[0] = sum
		sums = n.sum1[:]
	}
	loss := n.lanes(&n.la, sums)
	n.la, n.sum1[0], n.vec1[0], n.out1[0] = laneArgs{}, nil, nil, nil
	return loss
}

// one returns the one-element list {v} in the Network's storage a.
func one(a *[1][]float64, v []float64) [][]float64 {
	a[0] = v
	return a[:]
}

// lanes runs the call described by a over both lanes. sums are the call's sum
// destinations (each of length d, overwritten; none for per-example results); the
// returned value is the sum of the losses of the examples (opLoss).
func (n *Network) lanes(a *laneArgs, sums [][]float64) float64 {
	if a.nb <= chunkRows {
		return n.laneRun(0, a, sums)
	}
	j := n.lj
	if j == nil {
		j = &laneJob{net: n.Clone().(*Network)}
		n.lj = j
	}
	for len(j.buf) < len(sums) {
		j.buf = append(j.buf, make([]float64, n.d))
	}
	j.args, j.acc = a, j.buf[:len(sums)]
	var loss float64
	j.wg.Add(1)
	if (a.nb+chunkRows-1)/chunkRows >= laneParMin && kernel.Pool.TryGive(j) {
		loss = n.laneRun(0, a, sums)
	} else {
		loss = n.laneRun(0, a, sums)
		j.Work(nil)
		j.Done()
	}
	j.wg.Wait()
	for k, sum := range sums {
		for i, v := range j.acc[k] {
			sum[i] += v
		}
	}
	j.args, j.acc = nil, nil
	return loss + j.loss
}

// laneRun runs lane's chunks of the call a on n's scratch, accumulating sums into acc
// (cleared first), and returns the lane's sum of losses.
func (n *Network) laneRun(lane int, a *laneArgs, acc [][]float64) float64 {
	// The lane's first chunk overwrites acc (accumulate with β = 0): no clearing pass.
	first := true
	if a.op == opLoss && len(acc) > 0 && a.mode&headGrad == 0 {
		panic("model: a gradient needs headGrad")
	}
	s := n.ensure(min(a.nb, chunkRows))
	X := a.b.X.RawMatrix()
	var loss float64
	n.spBegin(a.b)
	for i0 := lane * chunkRows; i0 < a.nb; i0 += 2 * chunkRows {
		nr := min(chunkRows, a.nb-i0)
		n.spChunkAt(i0, nr, X.Data[i0*X.Stride:])
		switch a.op {
		case opLoss:
			x := X.Data[i0*X.Stride:]
			n.forward(a.theta, x, X.Stride, nr)
			n.evalHead(a.b.Y[i0:i0+nr], nr, i0, a.mode)
			if a.mode&headLoss != 0 {
				for _, v := range s.loss[:nr] {
					loss += v
				}
			}
			if len(acc) > 0 {
				n.backward(a.theta, nr)
				n.accumulate(acc[0], a.alpha, s.del, s.act, x, X.Stride, nr, nil, first)
			}
		case opPerExampleLoss:
			n.forward(a.theta, X.Data[i0*X.Stride:], X.Stride, nr)
			n.evalHead(a.b.Y[i0:i0+nr], nr, i0, headLoss)
			copy(a.out[i0:i0+nr], s.loss[:nr])
		case opGradDot:
			x := n.gradChunk(a.theta, X, a.b.Y, i0, nr)
			for k, u := range a.vecs {
				n.gradDotChunk(a.outs[k][i0:i0+nr], s.del, s.act, x, X.Stride, u)
			}
		case opGradSum:
			x := n.gradChunk(a.theta, X, a.b.Y, i0, nr)
			n.accumulate(acc[0], 1, s.del, s.act, x, X.Stride, nr, a.w[i0:i0+nr], first)
		case opGradDotSum:
			// One pass: the weights of the chunk from its Δ_l and A_l, then the weighted sum
			// from the same Δ_l and A_l (the products GradDot and GradSum make, in their order).
			x := n.gradChunk(a.theta, X, a.b.Y, i0, nr)
			n.dotSumChunk(acc[0], a, s.del, s.act, x, X.Stride, i0, nr, first)
		case opHessVec:
			n.hessVecChunk(acc, a.alpha, a.theta, X, a.b.Y, i0, nr, a.vecs, first)
		case opCacheGradDot:
			x := a.cache.chunk(i0, s.cdel, s.cact)
			for k, u := range a.vecs {
				n.gradDotChunk(a.outs[k][i0:i0+nr], s.cdel, s.cact, x, X.Stride, u)
			}
		case opCacheGradSum:
			x := a.cache.chunk(i0, s.cdel, s.cact)
			n.accumulate(acc[0], 1, s.cdel, s.cact, x, X.Stride, nr, a.w[i0:i0+nr], first)
		case opCacheGradDotSum:
			// GradDotSum from the cache: the chunk's features are read by the dots and
			// the sum back to back (once from memory instead of twice).
			x := a.cache.chunk(i0, s.cdel, s.cact)
			n.dotSumChunk(acc[0], a, s.cdel, s.cact, x, X.Stride, i0, nr, first)
		case opCacheBuild:
			n.gradChunk(a.theta, X, a.b.Y, i0, nr)
			a.cache.store(i0, nr, s)
		case opCovTangent:
			n.covTangentChunk(acc, a, X.Data[i0*X.Stride:], X.Stride, i0, nr, first)
		case opCacheMeanGrad:
			x := a.cache.chunk(i0, s.cdel, s.cact)
			n.accumulate(acc[0], a.alpha, s.cdel, s.cact, x, X.Stride, nr, nil, first)
		}
		first = false
	}
	n.spEnd()
	return loss
}

// dotSumChunk is GradDotSum's work on the chunk of nr rows at i0, from its Δ_l (del), hidden
// activations (acts) and features (x, leading dimension ldx): the dots g_i·u into a.out,
// their weights β (α (g_i·u − μ)), then the weighted sum of the chunk's gradients into acc
// (overwritten when first).
func (n *Network) dotSumChunk(acc []float64, a *laneArgs, del, acts [][]float64, x []float64, ldx, i0, nr int, first bool) {
	wc := a.out[i0 : i0+nr]
	n.gradDotChunk(wc, del, acts, x, ldx, a.vecs[0])
	covWeights(wc, a.mu, a.alpha, a.beta)
	n.accumulate(acc, 1, del, acts, x, ldx, nr, wc, first)
}

package model

import (
	"sync"

	"gonum.org/v1/gonum/blas/blas64"

	"github.com/sgdprior/sgdprior/internal/kernel"
)

// ConvNet lanes, as Network's (lanes.go): a batch of more than one chunk is split between
// two lanes, lane j taking chunks j, j+2, … with its own scratch (lane 1 runs on a clone);
// each lane sums its chunks in order into its own buffer and the lane sums are added at the
// end, lane 0 + lane 1. The split depends on the batch size alone, so the bits do not
// depend on whether the lanes run at once (an idle helper) or one after the other.

type cnnOp int

const (
	cnnOpLoss cnnOp = iota
	cnnOpGradDots
	cnnOpGradDotSum
	cnnOpGram
	cnnOpHessVec
	cnnOpPerExampleHessVec
	cnnOpCacheBuild
	cnnOpCacheGradDots
	cnnOpCacheGradDotSum
)

type cnnArgs struct {
	op              cnnOp
	nb              int
	theta           []float64
	b               Batch
	mode            headMode
	u               []float64   // GradDotSum's direction (nil: the weights w are given)
	w               []float64   // GradSum's weights, or GradDotSum's output weights
	vecs            [][]float64 // HessVecs' or GradDots' directions
	outs            [][]float64 // GradDots' results per direction (length nb each)
	mu, alpha, beta float64
	pv, pd          blas64.General // PerExampleHessVec's directions V and results
	store           *cnnStore      // Gram's factors of every example
	cache           *ConvGradCache // the cache of the cache ops
}

type cnnLaneJob struct {
	net  *ConvNet
	args *cnnArgs
	acc  [][]float64
	buf  [][]float64
	loss float64
	wg   sync.WaitGroup
}

func (j *cnnLaneJob) Work(*kernel.GemmWork) { j.loss = j.net.laneRun(1, j.args, j.acc) }
func (j *cnnLaneJob) Done()                 { j.wg.Done() }

// lanes runs a over both lanes into sums (each of length d, overwritten) and returns the
// sum of the examples' losses (cnnOpLoss with headLoss).
func (m *ConvNet) lanes(a *cnnArgs, sums [][]float64) float64 {
	if a.nb <= cnnChunk {
		return m.laneRun(0, a, sums)
	}
	j := m.lj
	if j == nil {
		j = &cnnLaneJob{net: m.Clone().(*ConvNet)}
		m.lj = j
	}
	for len(j.buf) < len(sums) {
		j.buf = append(j.buf, make([]float64, m.d))
	}
	j.args, j.acc = a, j.buf[:len(sums)]
	j.wg.Add(1)
	var loss float64
	if kernel.Pool.TryGive(j) {
		loss = m.laneRun(0, a, sums)
	} else {
		loss = m.laneRun(0, a, sums)
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

// laneRun runs lane's chunks of a, accumulating into acc (overwritten by the first chunk).
func (m *ConvNet) laneRun(lane int, a *cnnArgs, acc [][]float64) float64 {
	m.ensure(min(a.nb, cnnChunk))
	if a.op == cnnOpHessVec || a.op == cnnOpPerExampleHessVec {
		m.ensureR()
	}
	X := a.b.X.RawMatrix()
	var loss float64
	first := true
	for i0 := lane * cnnChunk; i0 < a.nb; i0 += 2 * cnnChunk {
		nr := min(cnnChunk, a.nb-i0)
		x := X.Data[i0*X.Stride:]
		switch a.op {
		case cnnOpLoss:
			feat, ldf := m.forward(a.theta, x, X.Stride, nr)
			m.tail.evalHead(a.b.Y[i0:i0+nr], nr, i0, a.mode)
			if a.mode&headLoss != 0 {
				for _, v := range m.tail.s.loss[:nr] {
					loss += v
				}
			}
			if len(acc) > 0 {
				m.backward(a.theta, nr)
				m.accumulate(acc[0], a.alpha, a.theta, feat, ldf, nr, first)
			}
		case cnnOpGradDots:
			m.dotsChunk(a.outs, i0, m.gradChunk(a.theta, a.b, i0, nr), a.vecs)
		case cnnOpGradDotSum:
			m.dotSumChunk(acc[0], a, m.gradChunk(a.theta, a.b, i0, nr), i0, first)
		case cnnOpGram:
			a.store.put(m, m.gradChunk(a.theta, a.b, i0, nr), i0)
		case cnnOpHessVec:
			feat, ldf := m.forward(a.theta, x, X.Stride, nr)
			m.tail.evalHead(a.b.Y[i0:i0+nr], nr, i0, headGrad|headHess)
			for k, vk := range a.vecs {
				m.hessVecChunk(acc[k], a.alpha, a.theta, vk, feat, ldf, nr, first)
			}
		case cnnOpPerExampleHessVec:
			feat, ldf := m.forward(a.theta, x, X.Stride, nr)
			m.tail.evalHead(a.b.Y[i0:i0+nr], nr, i0, headGrad|headHess)
			m.perExampleHessVecChunk(a.pd, a.pv, a.theta, feat, ldf, i0, nr)
		case cnnOpCacheBuild:
			// The cache's factors and the mean gradient, as Loss computes it.
			v := m.gradChunk(a.theta, a.b, i0, nr)
			a.store.put(m, v, i0)
			m.accumulate(acc[0], a.alpha, a.theta, v.feat, v.ldf, nr, first)
		case cnnOpCacheGradDots:
			m.dotsChunk(a.outs, i0, a.cache.view(m, i0, nr), a.vecs)
		case cnnOpCacheGradDotSum:
			m.dotSumChunk(acc[0], a, a.cache.view(m, i0, nr), i0, first)
		}
		first = false
	}
	return loss
}

// call runs a with at most one sum destination and drops the references afterwards.
func (m *ConvNet) call(a cnnArgs, sum []float64) float64 {
	m.la = a
	var sums [][]float64
	if sum != nil {
		m.sum1[0] = sum
		sums = m.sum1[:]
	}
	loss := m.lanes(&m.la, sums)
	m.la, m.sum1[0] = cnnArgs{}, nil
	return loss
}

package noise

import (
	"fmt"
	"math/rand/v2"
)

// Sampler draws the mini-batch indices of one stream of SGD steps under a sampling scheme
// (docs/MATH.md §1), from a random stream the caller passes to Next, without allocating:
//
//   - With: B indices drawn independently and uniformly from 0..N−1 (rng.IntN(N) each);
//   - Without: a partial Fisher–Yates shuffle of the first B entries of a permutation
//     buffer, whatever it held before: for j < B, swap perm[j] with perm[j + rng.IntN(N−j)];
//     the batch is perm[:B], a uniformly random B-subset (in random order);
//   - Reshuffle: when fewer than B entries of the current epoch are left, a full
//     Fisher–Yates shuffle of the buffer (for j = N−1, …, 1, swap perm[j] with
//     perm[rng.IntN(j+1)]) starts a new epoch; the batch is the next B entries.
//
// The state between steps (the permutation buffer and the epoch position) is State, and a
// checkpoint restores it with Restore. A Sampler is not safe for concurrent use.
type Sampler struct {
	scheme Sampling
	n, b   int
	perm   []int // Without, Reshuffle: the permutation buffer, initially the identity
	pos    int   // Reshuffle: the position in the current epoch
	idx    []int // With: the drawn indices
}

// NewSampler returns a sampler of batches of b among n examples under scheme s; the
// permutation buffer starts as the identity, and Reshuffle starts a new epoch on the first
// draw. It panics unless 1 ≤ b ≤ n and s is a scheme.
func NewSampler(s Sampling, n, b int) *Sampler {
	if b < 1 || b > n {
		panic(fmt.Sprintf("noise: NewSampler: batch %d outside [1, %d]", b, n))
	}
	sp := &Sampler{scheme: s, n: n, b: b}
	switch s {
	case With:
		sp.idx = make([]int, b)
	case Without, Reshuffle:
		sp.perm = make([]int, n)
		for i := range sp.perm {
			sp.perm[i] = i
		}
		sp.pos = n
	default:
		panic(fmt.Sprintf("noise: NewSampler: unknown sampling %d", int(s)))
	}
	return sp
}

// Next draws the next mini-batch from rng (see Sampler). The returned slice is a view into
// the sampler's state, valid until the next call: it must not be modified.
func (s *Sampler) Next(rng *rand.Rand) []int {
	b := s.b
	switch s.scheme {
	case With:
		for j := range s.idx {
			s.idx[j] = rng.IntN(s.n)
		}
		return s.idx
	case Without:
		p := s.perm
		for j := range b {
			i := j + rng.IntN(s.n-j)
			p[j], p[i] = p[i], p[j]
		}
		return p[:b]
	default: // Reshuffle
		if s.pos+b > s.n {
			p := s.perm
			for j := s.n - 1; j > 0; j-- {
				i := rng.IntN(j + 1)
				p[j], p[i] = p[i], p[j]
			}
			s.pos = 0
		}
		idx := s.perm[s.pos : s.pos+b]
		s.pos += b
		return idx
	}
}

// State returns the sampler's state between draws: the permutation buffer (a view; nil for
// With, which keeps no state) and the epoch position (used by Reshuffle).
func (s *Sampler) State() (perm []int, pos int) { return s.perm, s.pos }

// Restore sets the state State returned. It returns an error, and changes nothing, unless
// perm is a permutation of 0..N−1 (empty for With) and 0 ≤ pos ≤ N.
func (s *Sampler) Restore(perm []int, pos int) error {
	if s.perm == nil {
		if len(perm) != 0 {
			return fmt.Errorf("unexpected permutation buffer")
		}
		return nil
	}
	if len(perm) != s.n {
		return fmt.Errorf("permutation has length %d, want %d", len(perm), s.n)
	}
	seen := make([]bool, s.n)
	for _, i := range perm {
		if i < 0 || i >= s.n || seen[i] {
			return fmt.Errorf("permutation buffer is not a permutation of 0..%d", s.n-1)
		}
		seen[i] = true
	}
	if pos < 0 || pos > s.n {
		return fmt.Errorf("epoch position %d outside [0, %d]", pos, s.n)
	}
	copy(s.perm, perm)
	s.pos = pos
	return nil
}

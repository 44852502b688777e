// Package progress is the one progress interface of sgdprior's long computations
// (minimisation, the score stages, chains, landscapes), in the manner of gonum's
// optimize.Recorder: a computation reports what it is doing to a Recorder, and the
// command line decides how to show it.
package progress

// Recorder receives progress reports. stage says what is running ("lbfgs iteration 12 …",
// "chain 0: step 4000/20000"); frac in [0, 1] is the fraction done, or negative when it is
// not known; Announce marks a report that states a choice or a predicted cost.
type Recorder interface {
	Record(stage string, frac float64)
}

// Announce is the frac of a report that states a choice or a prediction before a long
// computation (the solver and its predicted cost): a command line that thins out its
// reports still shows these.
const Announce = -2.0

// Func adapts a function to a Recorder.
type Func func(stage string, frac float64)

// Record calls f.
func (f Func) Record(stage string, frac float64) { f(stage, frac) }

// Record reports to r, which may be nil (no report).
func Record(r Recorder, stage string, frac float64) {
	if r != nil {
		r.Record(stage, frac)
	}
}

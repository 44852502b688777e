package progress

import "testing"

// TestRecord: Record passes the stage and fraction to a Func and ignores a nil Recorder.
func TestRecord(t *testing.T) {
	var stage string
	var frac float64
	Record(Func(func(s string, f float64) { stage, frac = s, f }), "chain 0: step 10/20", 0.5)
	if stage != "chain 0: step 10/20" || frac != 0.5 {
		t.Errorf("recorded %q, %v", stage, frac)
	}
	Record(nil, "nothing", 1) // must not panic
}

package main

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sgdprior/sgdprior/study"
)

// TestPrintVerdicts: the console lists each verdict's short answer (the names of the
// matching predictions, not yes/no) in aligned columns, whatever the status's length.
func TestPrintVerdicts(t *testing.T) {
	res := &study.Results{Summary: &study.Summary{Entries: []study.EntrySummary{{Name: "p", Verdicts: []study.Verdict{
		{Topic: "Which covariance prediction matches SGD?", Status: study.Holds, Short: "exact least squares", Step: "p/verify-sgd"},
		{Topic: "Which covariance prediction matches SGD?", Status: study.Fails, Short: "none", Step: "p/verify-gauss"},
		{Topic: "Do flat wells win?", Status: study.Inconclusive, Short: "inconclusive", Step: "w/landscape"},
		{Topic: "Is the noise Gaussian?", Status: study.Partly, Short: "partly", Step: "p/score"},
	}}}}}
	var b strings.Builder
	printVerdicts(&b, res)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")[1:]
	if len(lines) != 4 {
		t.Fatalf("%d verdict lines: %q", len(lines), b.String())
	}
	col := -1
	for i, l := range lines {
		v := res.Summary.Entries[0].Verdicts[i]
		if !strings.Contains(l, v.Short) {
			t.Errorf("line %q lacks the answer %q", l, v.Short)
		}
		k := strings.Index(l, v.Topic)
		if k < 0 {
			t.Errorf("line %q lacks the topic", l)
			continue
		}
		c := utf8.RuneCountInString(l[:k])
		if col >= 0 && c != col {
			t.Errorf("topic at column %d in %q, %d before", c, l, col)
		}
		col = c
	}
	// The answers start in one column too.
	ans := -1
	for i, l := range lines {
		v := res.Summary.Entries[0].Verdicts[i]
		k := strings.LastIndex(l, v.Short)
		if k < 0 {
			continue // reported above
		}
		c := utf8.RuneCountInString(l[:k])
		if ans >= 0 && c != ans {
			t.Errorf("answer at column %d in %q, %d before", c, l, ans)
		}
		ans = c
	}
}

package report

import (
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/study"
)

// TestInconclusiveShown: an inconclusive verdict has its own colour (a CSS rule of its own,
// not the grey of unknown) in the verdict list, the "At a glance" table and the verdict
// table, and its badge says "inconclusive" even when its short answer is something else.
func TestInconclusiveShown(t *testing.T) {
	res := fixture()
	e := &res.Summary.Entries[0]
	e.Verdicts = append(e.Verdicts, study.Verdict{Topic: "Which covariance prediction matches SGD?", Status: study.Inconclusive,
		Short: "R̂ 1.3 > 1.01", Text: "The chains did not converge.", Step: "p/verify-lr0.1-B10-sgd", Where: "SGD, η = 0.1, B = 10"})
	rep, err := Build(res)
	if err != nil {
		t.Fatal(err)
	}
	page := string(rep.HTML)
	for _, s := range []string{"ul.verdicts li.inconclusive {", ".badge.inconclusive {", "td.inconclusive {",
		`<li class="inconclusive"><span class="badge inconclusive">inconclusive: R̂ 1.3 &gt; 1.01</span>`,
		`<div class="answer"><span class="badge inconclusive">inconclusive: R̂ 1.3 &gt; 1.01</span>`} {
		if !strings.Contains(page, s) {
			t.Errorf("the page lacks %q", s)
		}
	}
}

// TestOverviewCriticalPoint: the overview says that the implicit part of the note's prior
// score vanishes at every critical point, what is left there (the explicit weight decay
// and the Jacobian, the seed precision), and why one minimum's numbers cannot rank minima.
func TestOverviewCriticalPoint(t *testing.T) {
	rep, err := Build(fixture())
	if err != nil {
		t.Fatal(err)
	}
	page := string(rep.HTML)
	i, j := strings.Index(page, "<main>"), strings.Index(page, `<h2 id="glance">`)
	if i < 0 || j < i {
		t.Fatal("no overview before the glance table")
	}
	overview := page[i:j]
	for _, s := range []string{"vanishes at every critical point", "∇L = 0", "−N∇r", "Jacobian", "seed precision",
		"path integral", "not a gradient field", "cannot rank minima", "landscapes"} {
		if !strings.Contains(overview, s) {
			t.Errorf("the overview lacks %q", s)
		}
	}
}

package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/sgdprior/sgdprior/study"
)

// The report is tested on hand-written outputs in the subcommands' JSON shapes: what is
// checked is the rendering (every number shown is the one given, every figure and table is
// there, the page is self-contained), not the numbers.

const scoreOut = `{"n": 100, "d": 3, "lr": 0.1, "batch": 10, "kappa": 0.09, "damping": 0, "inverse": "dense", "loss": 0.5, "grad_norm": 1e-9,
 "noise": {"trace": 2, "trace_batch": 0.18, "rank": 3, "top_eigenvalues": [1, 0.6, 0.4], "noise_scale": null},
 "diagnostics": {"range_fraction": 0, "commutator": 0.3, "asymmetry_seed": 0.2, "divergence_ratio": 0.02},
 "gaussian": {"removed_directions": 1, "directions": [
   {"h": 3, "c": 0.2, "var_seed": 0.0033333333333333335, "var_continuous": 0.003, "var_discrete": 0.0035, "var_posterior": 0.0033, "prior_precision": {"seed": 10, "continuous": 12, "discrete": 5}},
   {"h": 2, "c": 0.30000000000000004, "var_seed": 0.0025, "var_continuous": 0.0026, "var_discrete": 0.0027, "var_posterior": 0.005, "prior_precision": {"seed": -40.5, "continuous": 3, "discrete": 1}},
   {"h": 1, "c": 0.1, "var_seed": 0.005, "var_continuous": 0.005, "var_discrete": 0.0051, "var_posterior": 0.01, "prior_precision": {"seed": 2, "continuous": 1, "discrete": null}}]},
 "optimal_lr": 0.02, "implicit_regularizer": 0.0045, "warnings": ["a <warning> & more"]}`

const verifyOut = `{"chains": 8, "steps": 1000, "burnin": 100, "thin": 1, "samples": 7200, "simulator": "sgd", "lr": 0.1, "batch": 10, "basis": "full",
 "rhat_max": 1.004, "ess_min": 900,
 "directions": [
   {"h": 3, "var": 0.0034, "var_stderr": 0.0001, "ratio": {"seed": 1.02, "discrete": 0.97}, "ratio_stderr": {"seed": 0.03, "discrete": 0.03}},
   {"h": 2, "var": 0.0026, "var_stderr": 0.0001, "ratio": {"seed": 1.04, "discrete": 0.96}, "ratio_stderr": {"seed": 0.04, "discrete": 0.04}},
   {"h": 1, "var": 0.0052, "var_stderr": 0.0002, "ratio": {"seed": 1.04, "discrete": 1.02}, "ratio_stderr": {"seed": 0.04, "discrete": 0.04}}],
 "predictions": {
   "seed": {"rel_frobenius": 0.2, "kl": 0.1, "score_error": 0.3, "consistent": false, "test": "t-tests", "alpha": 0.01},
   "discrete": {"rel_frobenius": 0.020000000000000004, "kl": 0.001, "score_error": 0.01, "consistent": true, "test": "t-tests", "alpha": 0.01}},
 "cloud": {"x": [0.01, -0.02, 0.03, 0.0], "y": [0.0, 0.01, -0.01, 0.02], "mean": [0.001, 0.002], "cov": [[0.0034, 0.0001], [0.0001, 0.0026]],
   "predictions": {"seed": [[0.0033, 0], [0, 0.0025]], "discrete": [[0.0035, 0.0001], [0.0001, 0.0027]]}},
 "warnings": []}`

const wellsOut = `{"preset": "wells", "params": {"center0": -1, "width0": 0.3, "center1": 1.3, "width1": 1.2},
 "lr": 0.2, "batch": 1, "kappa": 1,
 "grid": {"x": [-1, 0, 1, 2]}, "density": {"exact": [0.1, 0.2, 0.7, 0.1], "seed": [0.1, 0.1, 0.8, 0.1], "sgd": [0.05, 0.15, 0.8, 0.1], "sgd_stderr": [0.01, 0.01, 0.01, 0.01]},
 "wells": [
   {"center": [-0.97], "mass_exact": 0.09, "mass_seed": 0.13, "mass_sgd": 0.02, "mass_sgd_stderr": 0.002, "escape_exact": 2293, "escape_kramers": 542, "escape_sgd": 706, "escape_sgd_stderr": 79},
   {"center": [1.27], "mass_exact": 0.91, "mass_seed": 0.87, "mass_sgd": 0.98, "mass_sgd_stderr": 0.002, "escape_exact": 23310, "escape_kramers": 18950, "escape_sgd": 24570, "escape_sgd_stderr": 2964}],
 "sweep": [{"lr": 0.1, "batch": 2, "kappa": 1, "shares": {"exact": [0.1, 0.9], "seed": [0.2, 0.8], "sgd": [0.1, 0.9], "sgd_stderr": [0.01, 0.01]}},
           {"lr": 0.3, "batch": 1, "kappa": 1, "shares": {"exact": [0.15, 0.85], "seed": [0.2, 0.8], "sgd": [0.12, 0.88], "sgd_stderr": [0.01, 0.01]}}],
 "current": null, "warnings": []}`

// ou2dOut has a 3×2 grid (cell (i, j) at i·2 + j) with a rotating current.
const ou2dOut = `{"preset": "ou2d", "params": {}, "lr": 0.08, "batch": 1, "kappa": 1,
 "grid": {"x": [-1, 0, 1], "y": [-1, 1]}, "density": {"exact": [1, 2, 3, 4, 2, 1], "seed": [1, 2, 3, 3, 2, 1]},
 "wells": [{"center": [0, 0], "mass_exact": 1}], "current": 0.149,
 "current_field": {"jx": [1, -1, 1, -1, 1, -1], "jy": [-1, -1, 0, 0, 1, 1]}, "warnings": []}`

func fixture() *study.Results {
	s := &study.Study{
		Title:      "fixture",
		Problems:   []study.Problem{{Name: "p", Title: "Problem <p>", Note: "<script>alert(1)</script>"}},
		Landscapes: []study.Landscape{{Name: "w", Preset: "wells"}, {Name: "o", Preset: "ou2d"}},
	}
	mk := func(entry, cmd, stem string, lr float64, b int, sim, out string) study.StepResult {
		st := study.Step{ID: entry + "/" + stem, Entry: entry, Command: cmd, Args: []string{"--json", entry + "/" + stem + ".json"}, JSON: entry + "/" + stem + ".json", LR: lr, Batch: b, Simulator: sim}
		return study.StepResult{Step: st, CommandLine: st.CommandLine(), Output: json.RawMessage(out)}
	}
	res := &study.Results{Version: "test", CommandLine: []string{"sgdprior", "run"}, StudyFile: "fixture.toml", Study: s, Steps: []study.StepResult{
		mk("p", study.KindScore, "score-lr0.1-B10", 0.1, 10, "", scoreOut),
		mk("p", study.KindVerify, "verify-lr0.1-B10-sgd", 0.1, 10, "sgd", verifyOut),
		mk("w", study.KindLandscape, "landscape", 0, 0, "", wellsOut),
		mk("o", study.KindLandscape, "landscape", 0, 0, "", ou2dOut),
	}}
	res.Summary = study.Summarize(res)
	return res
}

func TestBuild(t *testing.T) {
	res := fixture()
	res.Steps[0].CommandLine = "sgdprior frobnicate --a 'b c'" // quoted in the steps table
	rep, err := Build(res)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range rep.Figures {
		names = append(names, f.Name)
		checkFigure(t, f)
	}
	want := []string{"p-cloud-lr0.1-B10", "p-ratios-lr0.1-B10", "p-spectra", "w-density", "w-shares", "w-escape", "o-density", "o-current"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("figures %v, want %v", names, want)
	}
	page := string(rep.HTML)
	// Nothing is loaded: no scripts, style sheets, images or addresses (the SVG namespace
	// declarations load nothing).
	rest := strings.NewReplacer(`xmlns="http://www.w3.org/2000/svg"`, "", `xmlns:xlink="http://www.w3.org/1999/xlink"`, "").Replace(page)
	for _, bad := range []string{"<script", "<link", "http://", "https://", "<img", "@import", "url("} {
		if strings.Contains(rest, bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
	for _, s := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "Problem &lt;p&gt;", "a &lt;warning&gt; &amp; more",
		`<td class="neg">-40.5 (widens)</td>`, `data-figure="o-current"`, "<svg", "Steps and files", "sgdprior frobnicate --a &#39;b c&#39;"} {
		if !strings.Contains(page, s) {
			t.Errorf("the page does not contain %q", s)
		}
	}
	if strings.Count(page, "<svg") != len(rep.Figures) {
		t.Errorf("%d inline SVGs for %d figures", strings.Count(page, "<svg"), len(rep.Figures))
	}
	// Every verdict, word for word (html/template escaping).
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;")
	for _, e := range res.Summary.Entries {
		for _, v := range e.Verdicts {
			if !strings.Contains(page, esc.Replace(v.Text)) {
				t.Errorf("verdict %s/%s is not on the page", e.Name, v.Topic)
			}
		}
	}
}

// TestTablesExact: the CSV files hold the numbers of the outputs exactly, the HTML their
// study.Format rendering.
func TestTablesExact(t *testing.T) {
	res := fixture()
	rep, err := Build(res)
	if err != nil {
		t.Fatal(err)
	}
	var dirs *Table
	for _, tb := range rep.Tables {
		if tb.Name == "p-directions-lr0.1-B10" {
			dirs = tb
		}
	}
	if dirs == nil {
		t.Fatal("no direction table")
	}
	recs, err := csv.NewReader(bytes.NewReader(dirs.CSV())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, h := range []string{"k", "h", "c", "var_seed", "var_sgd", "var_sgd_stderr", "prior_precision_seed", "prior_precision_discrete"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("column %s missing from %v", h, recs[0])
		}
	}
	get := func(r int, h string) float64 {
		v, err := strconv.ParseFloat(recs[r][col[h]], 64)
		if err != nil {
			t.Fatalf("row %d %s: %v", r, h, err)
		}
		return v
	}
	if get(2, "c") != 0.30000000000000004 || get(1, "var_seed") != 0.0033333333333333335 || get(2, "prior_precision_seed") != -40.5 || get(3, "var_sgd") != 0.0052 {
		t.Errorf("CSV rows %v", recs[1:])
	}
	if recs[3][col["prior_precision_discrete"]] != "" {
		t.Errorf("a null precision is %q in the CSV, want empty", recs[3][col["prior_precision_discrete"]])
	}
	if dirs.Rows[0][col["var_seed"]].Text != "0.003333" || dirs.Rows[2][col["prior_precision_discrete"]].Text != "—" {
		t.Errorf("HTML cells %q, %q", dirs.Rows[0][col["var_seed"]].Text, dirs.Rows[2][col["prior_precision_discrete"]].Text)
	}
	var preds *Table
	for _, tb := range rep.Tables {
		if tb.Name == "p-predictions" {
			preds = tb
		}
	}
	if preds == nil || !strings.Contains(string(preds.CSV()), "0.020000000000000004") {
		t.Errorf("prediction table: %s", preds.CSV())
	}
}

// TestMissingParts: outputs without a cloud or a current field say so instead of failing.
func TestMissingParts(t *testing.T) {
	res := fixture()
	var v map[string]any
	json.Unmarshal(res.Steps[1].Output, &v)
	delete(v, "cloud")
	res.Steps[1].Output, _ = json.Marshal(v)
	json.Unmarshal(res.Steps[3].Output, &v)
	delete(v, "current_field")
	res.Steps[3].Output, _ = json.Marshal(v)
	rep, err := Build(res)
	if err != nil {
		t.Fatal(err)
	}
	page := string(rep.HTML)
	for _, s := range []string{"stationary cloud: the output of p/verify-lr0.1-B10-sgd has no", "current field: the landscape output has no"} {
		if !strings.Contains(page, s) {
			t.Errorf("the page does not say %q", s)
		}
	}
	if len(rep.Figures) != 6 {
		t.Errorf("%d figures, want 6", len(rep.Figures))
	}
}

func TestWrite(t *testing.T) {
	rep, err := Build(fixture())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := rep.Write(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Figures {
		for _, ext := range []string{".svg", ".png"} {
			if _, err := os.Stat(filepath.Join(dir, FiguresDir, f.Name+ext)); err != nil {
				t.Error(err)
			}
		}
	}
	for _, tb := range rep.Tables {
		b, err := os.ReadFile(filepath.Join(dir, TablesDir, tb.Name+".csv"))
		if err != nil || !bytes.Equal(b, tb.CSV()) {
			t.Errorf("table %s: %v", tb.Name, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil || !bytes.Equal(b, rep.HTML) {
		t.Errorf("page: %v", err)
	}
}

func TestLogTicks(t *testing.T) {
	ticks := logTicks{}.Ticks(3e-6, 2)
	var labels []string
	for _, tk := range ticks {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if strings.Join(labels, " ") != "1e-05 0.0001 0.001 0.01 0.1 1" {
		t.Errorf("labels %v", labels)
	}
}

// TestContourLines: the contours of z = x² + y² on a grid are closed polylines on the
// circles of the levels (to the interpolation error of the grid), the same on every call.
func TestContourLines(t *testing.T) {
	n := 41
	x := make([]float64, n)
	for i := range x {
		x[i] = -2 + 4*float64(i)/float64(n-1)
	}
	z := make([]float64, n*n)
	for j := range x {
		for i := range x {
			z[j*n+i] = x[i]*x[i] + x[j]*x[j]
		}
	}
	c := &contourLines{g: gridField{x: x, y: x, z: z}, levels: []float64{1}}
	lines := c.polylines(1)
	if len(lines) != 1 {
		t.Fatalf("%d polylines, want 1", len(lines))
	}
	l := lines[0]
	if l[0] != l[len(l)-1] {
		t.Error("the contour of a circle is not closed")
	}
	h := 4.0 / float64(n-1)
	for _, e := range l {
		px, py := c.position(e, 1)
		// Linear interpolation of r² along an edge of length h errs by at most h²/4 in r².
		if r2 := px*px + py*py; math.Abs(r2-1) > h*h/4+1e-12 {
			t.Errorf("point (%v, %v): r² = %v", px, py, r2)
		}
	}
	again := c.polylines(1)
	if !reflect.DeepEqual(lines, again) {
		t.Error("two calls give different polylines")
	}
}

// TestBuildChecksNames (issue 14, item 1): Build holds the names of results it did not write
// to the study's rules, and within keeps every written path under the directory.
func TestBuildChecksNames(t *testing.T) {
	for _, n := range []string{"../evil", "../../evil", "/abs", "a/b", "..", "tables"} {
		res := fixture()
		res.Study.Problems[0].Name = n
		for i := range res.Steps {
			if res.Steps[i].Entry == "p" {
				res.Steps[i].Entry = n
			}
		}
		if _, err := Build(res); err == nil || !strings.Contains(err.Error(), "name ") {
			t.Errorf("%q: error %v", n, err)
		}
	}
	dir := t.TempDir()
	for _, c := range []struct{ sub, name string }{{FiguresDir, "../x.svg"}, {TablesDir, "a/b.csv"}, {"", ".."}, {"", ""}, {"", "a\x00b"}, {"..", "x"}, {"", `a\b`}} {
		if p, err := within(dir, c.sub, c.name); err == nil {
			t.Errorf("within(%q, %q) = %q", c.sub, c.name, p)
		}
	}
	if p, err := within(dir, FiguresDir, "p-cloud-lr1e+06-B8.svg"); err != nil || p != filepath.Join(dir, FiguresDir, "p-cloud-lr1e+06-B8.svg") {
		t.Errorf("within: %q, %v", p, err)
	}
}

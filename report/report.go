package report

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sgdprior/sgdprior/internal/atomicfile"
	"github.com/sgdprior/sgdprior/study"
	"github.com/sgdprior/sgdprior/verify"
)

// Report is a rendered study: the HTML page, its figures and its tables.
type Report struct {
	// HTML is the self-contained page (inline SVG and CSS, no scripts, no network).
	HTML []byte
	// Figures and Tables are every figure and table of the page, in page order.
	Figures []*Figure
	Tables  []*Table
}

// Files in a report directory (study.ReservedNames, which no entry may take).
const (
	HTMLFile   = study.ReportFile
	FiguresDir = study.FiguresDir
	TablesDir  = study.TablesDir
)

// entry is one problem or landscape as the page shows it.
type entry struct {
	Name, Title, Note, Kind string
	Verdicts                []study.Verdict
	Figures                 []*Figure
	Tables                  []*Table
	Steps                   []*study.StepResult
	// Missing lists what could not be shown, and why.
	Missing []string
	// Scaling is the problem's "Scaling with η/B" part (nil without one).
	Scaling *scalingPart
}

// Build renders res. It reads only res: every number comes from the steps' outputs or the
// summary, formatted by study.Format (HTML) or at full precision (CSV). The names in res
// that become file names are first checked by the study's own rules (Results.CheckNames):
// res may come from a results.json written elsewhere.
func Build(res *study.Results) (*Report, error) {
	if res.Summary == nil {
		return nil, fmt.Errorf("report: the results have no summary")
	}
	if err := res.CheckNames(); err != nil {
		return nil, err
	}
	sums := map[string]*study.EntrySummary{}
	for i := range res.Summary.Entries {
		sums[res.Summary.Entries[i].Name] = &res.Summary.Entries[i]
	}
	var entries []*entry
	for i := range res.Study.Problems {
		p := &res.Study.Problems[i]
		e, err := problemEntry(res, p, sums[p.Name])
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	for i := range res.Study.Landscapes {
		l := &res.Study.Landscapes[i]
		e, err := landscapeEntry(res, l, sums[l.Name])
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	rep := &Report{}
	for _, e := range entries {
		rep.Figures = append(rep.Figures, e.Figures...)
		rep.Tables = append(rep.Tables, e.Tables...)
		if e.Scaling != nil {
			rep.Figures = append(rep.Figures, e.Scaling.Figures...)
			rep.Tables = append(rep.Tables, e.Scaling.Tables...)
		}
	}
	rep.Tables = append(rep.Tables, summaryTables(res)...)
	html, err := renderHTML(res, entries, rep)
	if err != nil {
		return nil, err
	}
	rep.HTML = html
	return rep, nil
}

// Write writes the page (report.html), each figure as figures/NAME.svg and .png, and each
// table as tables/NAME.csv under dir, atomically file by file. Every path is checked to stay
// under dir (within): a name must be one path component, and figures/ and tables/ must be
// directories, not symbolic links to elsewhere.
func (r *Report) Write(dir string) error {
	for _, sub := range []string{FiguresDir, TablesDir} {
		p := filepath.Join(dir, sub)
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
		if fi, err := os.Lstat(p); err != nil {
			return err
		} else if !fi.IsDir() {
			return fmt.Errorf("%s: not a directory (a symbolic link?): refusing to write the report through it", p)
		}
	}
	write := func(sub, name string, b []byte) error {
		p, err := within(dir, sub, name)
		if err != nil {
			return err
		}
		return atomicfile.WriteBytes(p, b)
	}
	for _, f := range r.Figures {
		if err := write(FiguresDir, f.Name+".svg", f.SVG); err != nil {
			return err
		}
		if err := write(FiguresDir, f.Name+".png", f.PNG); err != nil {
			return err
		}
	}
	for _, t := range r.Tables {
		if err := write(TablesDir, t.Name+".csv", t.CSV()); err != nil {
			return err
		}
	}
	return write("", HTMLFile, r.HTML)
}

// within returns dir/sub/name after checking that it stays under dir: name must be a
// single local path component (no separator, not "." or "..", no NUL) and sub "" or one of
// the report's directories.
func within(dir, sub, name string) (string, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`+"\x00") || !filepath.IsLocal(name) {
		return "", fmt.Errorf("report: %q is not a file name inside %s", name, filepath.Join(dir, sub))
	}
	if sub != "" && sub != FiguresDir && sub != TablesDir {
		return "", fmt.Errorf("report: %q is not a directory of the report", sub)
	}
	return filepath.Join(dir, sub, name), nil
}

func titleOr(title, name string) string {
	if title != "" {
		return title
	}
	return name
}

// gridStem names a (η, B) point in file names.
func gridStem(lr float64, b int) string {
	return "lr" + strconv.FormatFloat(lr, 'g', -1, 64) + "-B" + strconv.Itoa(b)
}

func problemEntry(res *study.Results, p *study.Problem, sum *study.EntrySummary) (*entry, error) {
	e := &entry{Name: p.Name, Title: titleOr(p.Title, p.Name), Note: p.Note, Kind: "problem", Steps: res.EntrySteps(p.Name)}
	if sum != nil {
		e.Verdicts = sum.Verdicts
	}
	// With seed replicates the per-step parts are drawn for the first seed only (firstSeed).
	shown, seedNote := firstSeed(e.Steps)
	var scores []*study.StepResult
	var verifies []*study.StepResult
	for _, s := range shown {
		switch s.Command {
		case study.KindScore:
			scores = append(scores, s)
		case study.KindVerify:
			verifies = append(verifies, s)
		}
	}
	// Figures from the SGD run with the largest η (the last in grid order), where the
	// predictions differ most.
	var main *study.StepResult
	for _, s := range verifies {
		if s.Simulator == "sgd" {
			main = s
		}
	}
	if main == nil && len(verifies) > 0 {
		main = verifies[len(verifies)-1]
	}
	var mainV *verify.Report
	if main != nil {
		v, err := main.Verify()
		if err != nil {
			e.Missing = append(e.Missing, err.Error())
		} else {
			mainV = v
		}
	}
	if mainV != nil {
		where := fmt.Sprintf("%s, η = %s, B = %d", study.SimulatorLabel(main.Simulator), study.Format(main.LR), main.Batch)
		if c := mainV.Cloud; c != nil && len(c.X) > 0 {
			f, err := cloudFigure(p.Name+"-cloud-"+gridStem(main.LR, main.Batch), where, c)
			if err != nil {
				return nil, err
			}
			e.Figures = append(e.Figures, f)
		} else {
			e.Missing = append(e.Missing, fmt.Sprintf("stationary cloud: the output of %s has no \"cloud\"", main.ID))
		}
		if len(mainV.Directions) > 0 {
			f, err := ratioFigure(p.Name+"-ratios-"+gridStem(main.LR, main.Batch), where, mainV)
			if err != nil {
				return nil, err
			}
			e.Figures = append(e.Figures, f)
		} else {
			e.Missing = append(e.Missing, fmt.Sprintf("variance ratios: the output of %s has no \"directions\"", main.ID))
		}
	} else if len(verifies) == 0 && len(p.LR) > 0 {
		e.Missing = append(e.Missing, "stationary cloud and variance ratios: the study runs no simulator for this problem")
	}
	// Spectra and the per-direction table for every score step; measured variances from
	// the SGD verify step at the same (η, B).
	for k, s := range scores {
		o, err := s.Score()
		if err != nil {
			e.Missing = append(e.Missing, err.Error())
			continue
		}
		if k == 0 {
			f, err := spectraFigure(p.Name+"-spectra", s, o)
			if err != nil {
				return nil, err
			}
			if f != nil {
				e.Figures = append(e.Figures, f)
			}
		}
		var measured *verify.Report
		for _, v := range verifies {
			if v.Point() == s.Point() && v.Simulator == "sgd" {
				if mv, err := v.Verify(); err == nil {
					measured = mv
				}
			}
		}
		if t := directionTable(p.Name+"-directions-"+gridStem(s.LR, s.Batch), s, o, measured); t != nil {
			e.Tables = append(e.Tables, t)
		} else {
			e.Missing = append(e.Missing, fmt.Sprintf("per-direction table at η = %s, B = %d: score did not make the Gaussian predictions (no \"gaussian\" in %s)", study.Format(s.LR), s.Batch, s.ID))
		}
	}
	if len(scores) > 0 {
		e.Tables = append(e.Tables, scoreTable(p.Name+"-quantities", scores))
	}
	if len(verifies) > 0 {
		e.Tables = append(e.Tables, predictionTable(p.Name+"-predictions", verifies))
	}
	if err := networkParts(p.Name, e, shown); err != nil {
		return nil, err
	}
	captionNote(seedNote, e.Figures, e.Tables)
	if se := scalingEntry(res, p.Name); se != nil {
		part, err := scalingParts(p.Name, se)
		if err != nil {
			return nil, err
		}
		e.Scaling = part
	}
	return e, nil
}

func landscapeEntry(res *study.Results, l *study.Landscape, sum *study.EntrySummary) (*entry, error) {
	e := &entry{Name: l.Name, Title: titleOr(l.Title, l.Name), Note: l.Note, Kind: "landscape", Steps: res.EntrySteps(l.Name)}
	if sum != nil {
		e.Verdicts = sum.Verdicts
	}
	shown, seedNote := firstSeed(e.Steps)
	defer func() { captionNote(seedNote, e.Figures, e.Tables) }()
	for _, s := range shown {
		if s.Command != study.KindLandscape {
			continue
		}
		o, err := s.Landscape()
		if err != nil {
			e.Missing = append(e.Missing, err.Error())
			continue
		}
		figs, missing, err := landscapeFigures(l.Name, o, sum)
		if err != nil {
			return nil, err
		}
		e.Figures = append(e.Figures, figs...)
		e.Missing = append(e.Missing, missing...)
		if len(o.Wells) > 0 {
			e.Tables = append(e.Tables, wellTable(l.Name+"-wells", o))
		}
		if len(o.Sweep) > 0 {
			e.Tables = append(e.Tables, sweepTable(l.Name+"-sweep", o, sum))
		}
	}
	return e, nil
}

package report

import (
	"bytes"
	"fmt"
	"html/template"
	"path/filepath"
	"strings"

	"github.com/sgdprior/sgdprior/study"
)

// page is what the template sees.
type page struct {
	Title       string
	Version     string
	CommandLine string
	StudyFile   string
	Quick       bool
	Thresholds  study.Thresholds
	Entries     []*entry
	Glance      []glanceRow
	Warnings    []study.StepWarning
	Steps       []study.StepResult
	Tables      []*Table
	Figures     []*Figure
	// Network are the real-network verdicts the overview quotes.
	Network []networkAnswer
}

// glanceRow is one question about one entry, answered for each run that addresses it.
type glanceRow struct {
	Entry   *entry
	Topic   string
	Answers []study.Verdict
}

// glance groups the entries' verdicts by question, in the order they first appear.
func glance(entries []*entry) []glanceRow {
	var rows []glanceRow
	for _, e := range entries {
		at := map[string]int{}
		for _, v := range e.Verdicts {
			k, ok := at[v.Topic]
			if !ok {
				k = len(rows)
				at[v.Topic] = k
				rows = append(rows, glanceRow{Entry: e, Topic: v.Topic})
			}
			rows[k].Answers = append(rows[k].Answers, v)
		}
	}
	return rows
}

// badge is a verdict's badge text: its short answer, prefixed by "inconclusive: " for an
// inconclusive verdict whose answer does not say so, so that an undecided answer never reads
// as a finding.
func badge(v study.Verdict) string {
	if v.Status == study.Inconclusive && !strings.Contains(v.Short, study.Inconclusive) {
		if v.Short == "" {
			return study.Inconclusive
		}
		return study.Inconclusive + ": " + v.Short
	}
	return v.Short
}

// anchor makes an HTML id from a name.
func anchor(prefix, name string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	return b.String()
}

var funcs = template.FuncMap{
	"svg":     func(f *Figure) template.HTML { return template.HTML(f.InlineSVG()) },
	"anchor":  anchor,
	"badge":   badge,
	"figfile": func(f *Figure, ext string) string { return filepath.ToSlash(filepath.Join(FiguresDir, f.Name+"."+ext)) },
	"csvfile": func(t *Table) string { return filepath.ToSlash(filepath.Join(TablesDir, t.Name+".csv")) },
	"fmtnum":  study.Format,
}

var pageTemplate = template.Must(template.New("page").Funcs(funcs).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: Georgia, "Times New Roman", serif; line-height: 1.45; color: #1b1b1b; background: #fff; margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5em 2em 4em; }
h1 { font-size: 1.9em; margin-bottom: 0.2em; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2em; margin-top: 2.2em; }
h3 { margin-top: 1.6em; }
.meta, .note { color: #555; }
.meta code { font-size: 0.85em; }
nav ul { columns: 2; }
ul.verdicts { list-style: none; padding-left: 0; }
ul.verdicts li { margin: 0.6em 0; padding: 0.5em 0.8em; border-left: 5px solid #999; background: #f7f7f7; }
ul.verdicts li.holds { border-color: #009e73; }
ul.verdicts li.fails { border-color: #d55e00; }
ul.verdicts li.partly { border-color: #e69f00; }
ul.verdicts li.info { border-color: #0072b2; }
ul.verdicts li.inconclusive { border-color: #cc79a7; border-left-style: dashed; }
.badge { display: inline-block; font-family: sans-serif; font-size: 0.78em; padding: 0.05em 0.5em; border-radius: 0.7em; color: #fff; background: #888; margin-right: 0.4em; }
.badge.holds { background: #009e73; } .badge.fails { background: #d55e00; } .badge.partly { background: #b07800; } .badge.info { background: #0072b2; }
.badge.inconclusive { background: #a4487f; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.86em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.5em; text-align: right; vertical-align: top; }
th { background: #f0f0f0; font-family: sans-serif; font-weight: 600; }
td.txt, th.txt { text-align: left; }
td.neg { background: #fbe3d6; color: #8a2c00; font-weight: bold; }
td.holds { color: #007a5a; } td.fails { color: #b34700; } td.inconclusive { color: #a4487f; font-style: italic; }
.scroll { overflow-x: auto; }
figure { margin: 1.2em 0; }
figure svg { width: 100%; max-width: 760px; height: auto; display: block; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #444; margin-top: 0.3em; }
.missing { color: #8a5a00; }
pre.cmd { white-space: pre-wrap; word-break: break-all; font-size: 0.8em; background: #f6f6f6; padding: 0.5em; }
.glance td { text-align: left; }
.answer { margin: 0.1em 0; }
.where { color: #555; font-size: 0.9em; }
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
<p class="meta">sgdprior {{.Version}} · study: {{.StudyFile}}{{if .Quick}} (quick version){{end}} · command: <code>{{.CommandLine}}</code></p>
<p>The technical note models SGD as a stochastic differential equation with drift μ = −η∇L and diffusion D = η²C_B, takes the stationary score 2D⁻¹μ as the score of an “effective posterior”, and subtracts the likelihood score −∇L_full to obtain the score of SGD's implicit prior, (I − 2ηD⁻¹)∇L_full, which it reads as a preference for flat minima. This report computes the note's quantities on real models and data, checks the assumptions the derivation needs (zero probability current, constant diffusion, Gaussian noise, a full-rank noise covariance), measures SGD's stationary distribution and judges each covariance prediction against it, and settles the flat-versus-sharp question exactly in one and two dimensions. Every number comes from <a href="results.json">results.json</a>; each step's command line below reproduces it.</p>
<p>What a minimum can and cannot say. With weight decay r the note's prior score splits into the explicit part −N∇r and an implicit part s_prior + N∇r = −(2/η)C_B⁻¹∇L + N∇L; the implicit part vanishes at every critical point (∇L = 0 leaves only the explicit weight-decay part −N∇r), so at a minimum the note's vector says nothing beyond the explicit prior, and the implicit values the score steps print there are round-off, bounded by the round-off floor they report. What carries information at a minimum is the field's Jacobian there, the seed precision (2/η)C_B⁻¹H, which sets the predicted spread around that minimum. Comparing two minima would need a path integral of the note's field between them, and that field is not a gradient field (its Jacobian is not symmetric in general; at a minimum it is symmetric only when C_B and H commute), so the integral depends on the path: quantities at one minimum cannot rank minima. The flat-versus-sharp question is answered instead by the landscapes below, where the exact stationary density, and with it the mass of each well, is computed.</p>
{{if .Network}}<p class="network-overview">Where SGD goes on a real network, where the note's claim is tested without its derivation: whether SGD finds flatter minima than full-batch GD, whether the flatter minima generalize better, and whether SGD's own noise escapes sharp minima where isotropic noise of the same total variance does not. Along the trajectory the note's implicit part is nonzero, and its size and direction are in the track.</p>
<ul class="verdicts network-overview">
{{range .Network}}<li class="{{.Verdict.Status}}"><span class="badge {{.Verdict.Status}}">{{badge .Verdict}}</span><strong>{{.Verdict.Topic}}</strong> <span class="where">({{.Entry}}{{if .Verdict.Where}}; {{.Verdict.Where}}{{end}})</span><br>{{.Verdict.Text}}</li>
{{end}}</ul>{{end}}

<nav><h2 id="contents">Contents</h2><ul>
<li><a href="#glance">At a glance</a></li>
{{range .Entries}}<li><a href="#{{anchor "entry-" .Name}}">{{.Title}}</a></li>
{{end}}<li><a href="#warnings">Warnings ({{len .Warnings}})</a></li>
<li><a href="#reproduce">Steps and files</a></li>
</ul></nav>

<h2 id="glance">At a glance</h2>
<table class="glance">
<tr><th class="txt">entry</th><th class="txt">question</th><th class="txt">answers</th></tr>
{{range .Glance}}<tr><td><a href="#{{anchor "entry-" .Entry.Name}}">{{.Entry.Name}}</a></td><td>{{.Topic}}</td><td>{{range .Answers}}<div class="answer"><span class="badge {{.Status}}">{{badge .}}</span> <span class="where">{{.Where}}</span></div>{{end}}</td></tr>
{{end}}</table>
<p class="note">Thresholds for the assumption checks (each value is printed beside its threshold, with its standard error where it is estimated from random probes or samples; such a check is inconclusive when the interval of two standard errors straddles the threshold): commutator ≤ {{fmtnum .Thresholds.Commutator}}, Jacobian asymmetry ≤ {{fmtnum .Thresholds.Asymmetry}}, divergence ratio ≤ {{fmtnum .Thresholds.Divergence}}, |excess kurtosis| ≤ {{fmtnum .Thresholds.Kurtosis}}, 2-D current ≤ {{fmtnum .Thresholds.Current}}. The verdicts on the covariance predictions are verify's statistical test (MATH.md §7.2), stated in each verdict with its level, power and effect size; they are inconclusive when the chains have not converged.</p>

{{range .Entries}}
<section id="{{anchor "entry-" .Name}}" data-entry="{{.Name}}">
<h2>{{.Title}}</h2>
{{if .Note}}<p class="note">{{.Note}}</p>{{end}}
<h3>Verdicts</h3>
<ul class="verdicts">
{{range .Verdicts}}<li class="{{.Status}}"><span class="badge {{.Status}}">{{badge .}}</span><strong>{{.Topic}}</strong>{{if .Where}} <span class="where">({{.Where}})</span>{{end}}<br>{{.Text}}</li>
{{else}}<li>No verdicts: the steps produced no readable output.</li>
{{end}}</ul>
{{if .Figures}}<h3>Figures</h3>{{end}}
{{range .Figures}}{{template "figure" .}}{{end}}
{{range .Tables}}{{template "table" .}}{{end}}
{{if .Scaling}}<div class="scaling" id="{{anchor "scaling-" .Name}}">{{with .Scaling}}
<h3>Scaling with η/B</h3>
<p class="note">How the stationary variance (and, on a real network, the sharpness and test error of SGD's minima) changes with η/B over the grid, beside each prediction, with the fitted log-log slopes.</p>
{{range .Figures}}{{template "figure" .}}{{end}}
{{range .Tables}}{{template "table" .}}{{end}}
{{end}}</div>{{end}}
{{if .Missing}}<h3>Not shown</h3><ul>{{range .Missing}}<li class="missing">{{.}}</li>{{end}}</ul>{{end}}
<h3>Steps</h3>
{{range .Steps}}<pre class="cmd">{{.CommandLine}}</pre>{{end}}
</section>
{{end}}

<h2 id="warnings">Warnings</h2>
{{if .Warnings}}<table data-table="warnings">
<tr><th class="txt">step</th><th class="txt">warning</th></tr>
{{range .Warnings}}<tr><td class="txt">{{.Step}}</td><td class="txt">{{.Text}}</td></tr>
{{end}}</table>{{else}}<p>No step reported a warning.</p>{{end}}

<h2 id="reproduce">Steps and files</h2>
<p>The study ran these steps in this order, each by calling the library with the settings its command line states; run from this report's directory (where every path is relative to), each command reproduces its step's JSON file exactly, which results.json holds verbatim.</p>
<table data-table="steps">
<tr><th class="txt">step</th><th class="txt">command</th></tr>
{{range .Steps}}<tr><td class="txt">{{.ID}}</td><td class="txt"><code>{{.CommandLine}}</code></td></tr>
{{end}}</table>
<p>Files: <a href="results.json">results.json</a>;
tables {{range $i, $t := .Tables}}{{if $i}}, {{end}}<a href="{{csvfile $t}}">{{$t.Name}}.csv</a>{{end}};
figures {{range $i, $f := .Figures}}{{if $i}}, {{end}}<a href="{{figfile $f "svg"}}">{{$f.Name}}</a>{{end}} (each as SVG and PNG).</p>
</main>
</body>
</html>
{{define "figure"}}<figure id="{{anchor "fig-" .Name}}" data-figure="{{.Name}}">
{{svg .}}
<figcaption><strong>{{.Title}}.</strong> {{.Caption}} Files: <a href="{{figfile . "svg"}}">SVG</a>, <a href="{{figfile . "png"}}">PNG</a>.</figcaption>
</figure>
{{end}}{{define "table"}}<h3 id="{{anchor "table-" .Name}}">{{.Title}}</h3>
<p class="note">{{.Caption}} CSV: <a href="{{csvfile .}}">{{csvfile .}}</a>.</p>
<div class="scroll"><table data-table="{{.Name}}">
<tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td{{if .Class}} class="{{.Class}}"{{end}}>{{.Text}}</td>{{end}}</tr>
{{end}}</table></div>
{{end}}`))

func renderHTML(res *study.Results, entries []*entry, rep *Report) ([]byte, error) {
	title := res.Study.Title
	if title == "" {
		title = "sgdprior study"
	}
	p := page{
		Title:       title,
		Version:     res.Version,
		CommandLine: strings.Join(res.CommandLine, " "),
		StudyFile:   res.StudyFile,
		Quick:       res.Quick,
		Thresholds:  res.Summary.Thresholds,
		Entries:     entries,
		Glance:      glance(entries),
		Warnings:    res.Summary.Warnings,
		Steps:       res.Steps,
		Tables:      rep.Tables,
		Figures:     rep.Figures,
		Network:     networkAnswers(entries),
	}
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, p); err != nil {
		return nil, fmt.Errorf("report: %v", err)
	}
	return b.Bytes(), nil
}

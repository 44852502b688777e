package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sgdprior/sgdprior/report"
	"github.com/sgdprior/sgdprior/study"
)

// checkNumbersMatchResults: every number the page shows in its tables is study.Format of
// the number in results.json, and every CSV value reads back as exactly that number.
func checkNumbersMatchResults(t *testing.T, out string, res *study.Results) {
	page, err := os.ReadFile(filepath.Join(out, report.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	checked := 0
	for i := range res.Steps {
		s := &res.Steps[i]
		switch s.Command {
		case study.KindVerify:
			v, err := s.Verify()
			if err != nil {
				t.Fatal(err)
			}
			for name, p := range v.Predictions {
				for _, x := range []study.Float{p.RelFrobenius, p.KL, p.ScoreError} {
					if x.OK() {
						mustContain(t, html, ">"+templateEscape(study.Format(float64(x)))+"<", s.ID+" "+name)
						checked++
					}
				}
			}
			csvHas(t, filepath.Join(out, report.TablesDir, s.Entry+"-predictions.csv"), func(rec []string) bool {
				return len(rec) > 11 && rec[2] == s.Simulator
			}, 11, func(rec []string) float64 { return float64(v.Predictions[rec[3]].RelFrobenius) })
			csvHas(t, filepath.Join(out, report.TablesDir, s.Entry+"-predictions.csv"), func(rec []string) bool {
				return len(rec) > 5 && rec[2] == s.Simulator
			}, 5, func(rec []string) float64 { return float64(v.Predictions[rec[3]].Effect.RelError) })
		case study.KindLandscape:
			l, err := s.Landscape()
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range l.Wells {
				for _, x := range []study.Float{w.MassExact, w.MassNote, w.EscapeExact} {
					if x.OK() {
						mustContain(t, html, ">"+templateEscape(study.Format(float64(x)))+"<", s.ID)
						checked++
					}
				}
			}
		case study.KindScore:
			o, err := s.Score()
			if err != nil {
				t.Fatal(err)
			}
			if g := o.Gaussian; g != nil {
				for _, d := range g.Directions {
					for _, x := range []study.Float{d.H, d.C, d.VarNote, d.VarContinuous, d.VarDiscrete, d.VarPosterior} {
						if x.OK() {
							mustContain(t, html, ">"+templateEscape(study.Format(float64(x))), s.ID)
							checked++
						}
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no number was checked")
	}
	// Every verdict of results.json is on the page, word for word.
	for _, e := range res.Summary.Entries {
		for _, v := range e.Verdicts {
			mustContain(t, html, templateEscape(v.Text), e.Name+": "+v.Topic)
		}
	}
	for _, w := range res.Summary.Warnings {
		mustContain(t, html, templateEscape(w.Text), "warning of "+w.Step)
	}
}

// templateEscape escapes s as html/template does in text.
func templateEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;")
	return r.Replace(s)
}

func mustContain(t *testing.T, html, s, what string) {
	t.Helper()
	if !strings.Contains(html, s) {
		t.Errorf("%s: the page does not show %q", what, s)
	}
}

// csvHas checks column col of the rows of a CSV file that match: each must parse back to
// exactly want(row).
func csvHas(t *testing.T, path string, match func([]string) bool, col int, want func([]string) float64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csvReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, rec := range recs[1:] {
		if !match(rec) {
			continue
		}
		n++
		var got float64
		if _, err := fmt.Sscan(rec[col], &got); err != nil {
			t.Errorf("%s: %q: %v", path, rec[col], err)
			continue
		}
		if w := want(rec); got != w {
			t.Errorf("%s: %s = %v, results.json has %v", path, recs[0][col], got, w)
		}
	}
	if n == 0 {
		t.Errorf("%s: no matching row", path)
	}
}

// checkInBrowser opens the tiny study's report in headless Chromium from disk: no console
// errors or exceptions, every figure present with a non-zero size, and a screenshot saved
// as a test artifact ($SGDPRIOR_ARTIFACTS, default $TMPDIR/sgdprior-artifacts). Without
// Chromium it skips, unless SGDPRIOR_REQUIRE_TOOLS=1.
func checkInBrowser(t *testing.T, out string, res *study.Results) {
	bin := findChromium()
	if bin == "" {
		if os.Getenv("SGDPRIOR_REQUIRE_TOOLS") == "1" {
			t.Fatal("chromium not found (Debian package: chromium) and SGDPRIOR_REQUIRE_TOOLS=1")
		}
		t.Skip("chromium not found: install Debian's chromium package to run the browser test")
	}
	rep, err := report.Build(res)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Figures) == 0 {
		t.Fatal("the report has no figure")
	}
	page, err := filepath.Abs(filepath.Join(out, report.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	b := startBrowser(t, bin)
	defer b.close()
	figs, problems, shot := b.inspect(t, "file://"+page)
	for _, p := range problems {
		t.Errorf("browser console: %s", p)
	}
	seen := map[string]bool{}
	for _, f := range figs {
		seen[f.Name] = true
		if !(f.W > 0 && f.H > 0) {
			t.Errorf("figure %s has size %v×%v", f.Name, f.W, f.H)
		}
	}
	for _, f := range rep.Figures {
		if !seen[f.Name] {
			t.Errorf("figure %s is not on the page", f.Name)
		}
	}
	dir := os.Getenv("SGDPRIOR_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "sgdprior-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "report-screenshot.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the report: %s (%d bytes)", path, len(shot))
}

// TestBrowserCheckDetectsProblems: the browser check itself sees a script error, a console
// error and a figure of zero size on a page made to have them.
func TestBrowserCheckDetectsProblems(t *testing.T) {
	bin := findChromium()
	if bin == "" {
		if os.Getenv("SGDPRIOR_REQUIRE_TOOLS") == "1" {
			t.Fatal("chromium not found (Debian package: chromium) and SGDPRIOR_REQUIRE_TOOLS=1")
		}
		t.Skip("chromium not found: install Debian's chromium package to run the browser test")
	}
	page := writeFile(t, t.TempDir(), "bad.html", `<!DOCTYPE html><html><body>
<figure data-figure="ok"><svg width="100" height="50"><path d="M0,0L10,10"/></svg></figure>
<figure data-figure="empty"><svg width="0" height="0"></svg></figure>
<script>console.error("deliberate"); undefinedFunction();</script>
</body></html>`)
	b := startBrowser(t, bin)
	defer b.close()
	figs, problems, shot := b.inspect(t, "file://"+page)
	if len(shot) == 0 {
		t.Error("no screenshot")
	}
	if len(problems) < 2 {
		t.Errorf("problems %q: want the console error and the exception", problems)
	}
	sizes := map[string]float64{}
	for _, f := range figs {
		sizes[f.Name] = f.W * f.H
	}
	if len(figs) != 2 || !(sizes["ok"] > 0) || sizes["empty"] != 0 {
		t.Errorf("figure sizes %+v", figs)
	}
}

func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	return ""
}

// browser drives headless Chromium through the DevTools protocol over a pipe
// (--remote-debugging-pipe: commands on fd 3, replies and events on fd 4, each message a
// JSON object followed by a NUL byte).
type browser struct {
	cmd    *exec.Cmd
	w      *os.File
	mu     sync.Mutex
	nextID int
	msgs   chan cdpMessage
	stderr bytes.Buffer
}

type cdpMessage struct {
	ID        int             `json:"id"`
	Method    string          `json:"method"`
	Params    json.RawMessage `json:"params"`
	Result    json.RawMessage `json:"result"`
	Error     *struct{ Message string }
	SessionID string `json:"sessionId"`
}

func startBrowser(t *testing.T, bin string) *browser {
	t.Helper()
	inR, inW, err := os.Pipe() // commands: we write, Chromium reads (fd 3)
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe() // replies: Chromium writes (fd 4), we read
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{w: inW, msgs: make(chan cdpMessage, 256)}
	b.cmd = exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
		"--user-data-dir="+t.TempDir(), "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--disable-extensions", "--hide-scrollbars", "--mute-audio",
		"--window-size=1200,900", "about:blank")
	b.cmd.ExtraFiles = []*os.File{inR, outW}
	b.cmd.Stderr = &b.stderr
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inR.Close()
	outW.Close()
	go func() {
		rd := bufio.NewReader(outR)
		for {
			msg, err := rd.ReadBytes(0)
			if err != nil {
				close(b.msgs)
				return
			}
			var m cdpMessage
			if json.Unmarshal(msg[:len(msg)-1], &m) == nil {
				b.msgs <- m
			}
		}
	}()
	return b
}

func (b *browser) close() {
	b.w.Close()
	done := make(chan struct{})
	go func() { b.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		b.cmd.Process.Kill()
		<-done
	}
}

// pending collects the events seen while waiting for replies.
type pending struct {
	events []cdpMessage
}

// call sends a command and waits for its reply, keeping the events that arrive meanwhile.
func (b *browser) call(t *testing.T, ev *pending, session, method string, params any) json.RawMessage {
	t.Helper()
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method, "params": params}
	if session != "" {
		msg["sessionId"] = session
	}
	raw, _ := json.Marshal(msg)
	if _, err := b.w.Write(append(raw, 0)); err != nil {
		t.Fatalf("devtools %s: %v", method, err)
	}
	timeout := time.After(60 * time.Second)
	for {
		select {
		case m, ok := <-b.msgs:
			if !ok {
				t.Fatalf("devtools %s: chromium exited; stderr: %s", method, lastLines(b.stderr.String(), 5))
			}
			if m.ID == id {
				if m.Error != nil {
					t.Fatalf("devtools %s: %s", method, m.Error.Message)
				}
				return m.Result
			}
			if m.Method != "" {
				ev.events = append(ev.events, m)
			}
		case <-timeout:
			t.Fatalf("devtools %s: no reply in 60 s", method)
		}
	}
}

// waitEvent waits for an event of the session, keeping the others.
func (b *browser) waitEvent(t *testing.T, ev *pending, session, method string) {
	t.Helper()
	for _, m := range ev.events {
		if m.Method == method && m.SessionID == session {
			return
		}
	}
	timeout := time.After(60 * time.Second)
	for {
		select {
		case m, ok := <-b.msgs:
			if !ok {
				t.Fatalf("waiting for %s: chromium exited", method)
			}
			if m.Method != "" {
				ev.events = append(ev.events, m)
			}
			if m.Method == method && m.SessionID == session {
				return
			}
		case <-timeout:
			t.Fatalf("no %s in 60 s", method)
		}
	}
}

type figureBox struct {
	Name string  `json:"name"`
	W    float64 `json:"w"`
	H    float64 `json:"h"`
}

// inspect loads url and returns the figures' sizes, the console errors and exceptions,
// and a full-page PNG screenshot.
func (b *browser) inspect(t *testing.T, url string) ([]figureBox, []string, []byte) {
	t.Helper()
	ev := &pending{}
	var target struct{ TargetID string }
	json.Unmarshal(b.call(t, ev, "", "Target.createTarget", map[string]any{"url": "about:blank"}), &target)
	var att struct{ SessionID string }
	json.Unmarshal(b.call(t, ev, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}), &att)
	s := att.SessionID
	for _, m := range []string{"Runtime.enable", "Log.enable", "Page.enable"} {
		b.call(t, ev, s, m, map[string]any{})
	}
	var nav struct{ ErrorText string }
	json.Unmarshal(b.call(t, ev, s, "Page.navigate", map[string]any{"url": url}), &nav)
	if nav.ErrorText != "" {
		t.Fatalf("navigating to %s: %s", url, nav.ErrorText)
	}
	b.waitEvent(t, ev, s, "Page.loadEventFired")
	const script = `JSON.stringify(Array.from(document.querySelectorAll("figure[data-figure]")).map(f => {
		const s = f.querySelector("svg"); const r = s ? s.getBoundingClientRect() : {width: 0, height: 0};
		return {name: f.dataset.figure, w: r.width, h: r.height};
	}))`
	var evr struct {
		Result struct{ Value string }
	}
	json.Unmarshal(b.call(t, ev, s, "Runtime.evaluate", map[string]any{"expression": script, "returnByValue": true}), &evr)
	var figs []figureBox
	if err := json.Unmarshal([]byte(evr.Result.Value), &figs); err != nil {
		t.Fatalf("figure sizes: %v (%q)", err, evr.Result.Value)
	}
	var lm struct {
		CSSContentSize struct{ Width, Height float64 } `json:"cssContentSize"`
	}
	json.Unmarshal(b.call(t, ev, s, "Page.getLayoutMetrics", map[string]any{}), &lm)
	h := min(lm.CSSContentSize.Height, 12000)
	if h < 900 {
		h = 900
	}
	b.call(t, ev, s, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1200, "height": int(h), "deviceScaleFactor": 1, "mobile": false})
	var shot struct{ Data string }
	json.Unmarshal(b.call(t, ev, s, "Page.captureScreenshot", map[string]any{"format": "png"}), &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil || len(png) == 0 {
		t.Fatalf("screenshot: %v", err)
	}
	var problems []string
	for _, m := range ev.events {
		switch m.Method {
		case "Runtime.exceptionThrown":
			problems = append(problems, "exception: "+string(m.Params))
		case "Runtime.consoleAPICalled":
			var p struct{ Type string }
			json.Unmarshal(m.Params, &p)
			if p.Type == "error" || p.Type == "assert" {
				problems = append(problems, "console."+p.Type+": "+string(m.Params))
			}
		case "Log.entryAdded":
			var p struct {
				Entry struct{ Level, Text, URL string }
			}
			json.Unmarshal(m.Params, &p)
			if p.Entry.Level == "error" {
				problems = append(problems, fmt.Sprintf("%s (%s)", p.Entry.Text, p.Entry.URL))
			}
		}
	}
	return figs, problems, png
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

func csvReadAll(r io.Reader) ([][]string, error) { return csv.NewReader(r).ReadAll() }

package main
import ("testing";"os";"path/filepath";"github.com/sgdprior/sgdprior/report")
func TestScratchDiff(t *testing.T){
  out, res := runTiny(t)
  page, _ := os.ReadFile(filepath.Join(out, report.HTMLFile))
  rep, _ := report.Build(res)
  os.WriteFile("/tmp/repq/p1.html", page, 0o644)
  os.WriteFile("/tmp/repq/p2.html", rep.HTML, 0o644)
}

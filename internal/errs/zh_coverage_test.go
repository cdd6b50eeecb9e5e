package errs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestCatalogCoverage prints how many of the messages written as literals
// in errs.E calls have their Chinese, and which do not (run with -v). It
// is a figure, not a rule: a new message may start in English.
func TestCatalogCoverage(t *testing.T) {
	call := regexp.MustCompile(`errs\.E\(errs\.\w+, "(\w+)", ("(?:[^"\\]|\\.)*")\)`)
	total, known := 0, 0
	err := filepath.WalkDir(filepath.Join("..", ".."), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "web" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		for _, m := range call.FindAllStringSubmatch(string(b), -1) {
			msg, uerr := strconv.Unquote(m[2])
			if uerr != nil {
				continue
			}
			total++
			if Translate(msg) != "" {
				known++
			} else {
				t.Logf("no Chinese: %s: %s: %s", filepath.Base(p), m[1], msg)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of %d literal messages have their Chinese", known, total)
}

package app_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ddrsuite/ddr/services/notification/app"
	"github.com/ddrsuite/ddr/services/notification/domain"
)

// Clause 2.2 names "the competent data protection authorities": the
// directory that finds them is data a deployment gives, with the EEA's
// authorities by default; a wrong entry stops startup rather than leave an
// authority un-notified.
func TestClause2_2_DPADirectoryIsReadFromAFileWithTheEEAAsDefault(t *testing.T) {
	def, err := app.ReadDPADirectory("")
	if err != nil || def["FR"] != "CNIL" || len(def) != len(domain.DefaultDPADirectory()) {
		t.Fatalf("default directory: %v, %v; want the EEA's authorities", def, err)
	}
	write := func(body string) string {
		p := filepath.Join(t.TempDir(), "dpas.json")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dir, err := app.ReadDPADirectory(write(`{"fr": "CNIL", "CH": "FDPIC"}`))
	if err != nil || dir["FR"] != "CNIL" || dir["CH"] != "FDPIC" || len(dir) != 2 {
		t.Fatalf("directory = %v, %v; want FR and CH", dir, err)
	}
	for name, body := range map[string]string{
		"not JSON":        `FR=CNIL`,
		"unknown country": `{"France": "CNIL"}`,
		"no authority":    `{"FR": " "}`,
	} {
		if _, err := app.ReadDPADirectory(write(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := app.ReadDPADirectory(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("a missing file: accepted")
	}
}

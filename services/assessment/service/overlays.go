package service

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ddrsuite/ddr/services/assessment/domain"
	"github.com/ddrsuite/ddr/services/platform/ddrerr"
)

// LoadOverlays reads the jurisdiction overlays (1.2) at path: a JSON file
// holding one overlay object or an array of them, or a directory whose
// *.json files each hold one or an array. An empty path means none. Every
// overlay is checked against base; one that would loosen a rule fails the
// load with the *ddrerr.PolicyViolation of clause 1.2, so the service
// refuses to start rather than run a weaker policy.
func LoadOverlays(path string, base domain.Config) ([]domain.Overlay, error) {
	if path == "" {
		return nil, nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("overlays: %w", err)
	}
	files := []string{path}
	if info.IsDir() {
		if files, err = filepath.Glob(filepath.Join(path, "*.json")); err != nil {
			return nil, fmt.Errorf("overlays: %w", err)
		}
	}
	var out []domain.Overlay
	names := map[string]string{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("overlays: %w", err)
		}
		docs := []json.RawMessage{data}
		if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '[' {
			if err := json.Unmarshal(trimmed, &docs); err != nil {
				return nil, fmt.Errorf("overlays %s: %w", file, ddrerr.Invalid(ddrerr.FieldViolation{Field: "overlay", Description: "not a JSON array of overlays"}))
			}
		}
		for _, doc := range docs {
			o, err := domain.LoadOverlay(doc, base)
			if err != nil {
				return nil, fmt.Errorf("overlays %s: %w", file, err)
			}
			if prev, dup := names[o.Name]; dup {
				return nil, fmt.Errorf("overlays %s: %w", file, ddrerr.Invalid(ddrerr.FieldViolation{
					Field: "name", Description: fmt.Sprintf("overlay %q is also defined in %s", o.Name, prev),
				}))
			}
			names[o.Name] = file
			out = append(out, o)
		}
	}
	return out, nil
}

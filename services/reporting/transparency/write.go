package transparency

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// WriteSite writes the site's files under dir, each replaced atomically
// (written beside, then renamed), so a web server never serves half a
// file. A path that would leave dir is refused.
func WriteSite(dir string, site map[string][]byte) error {
	var errs []error
	for p, b := range site {
		if !filepath.IsLocal(filepath.FromSlash(p)) {
			return fmt.Errorf("transparency: site file %q is outside the site", p)
		}
		path := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil { //nolint:gosec // a published site is public: the web server reads it
			return err
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, b, 0o644); err != nil { //nolint:gosec // a published site is public
			return err
		}
		errs = append(errs, os.Rename(tmp, path))
	}
	return errors.Join(errs...)
}

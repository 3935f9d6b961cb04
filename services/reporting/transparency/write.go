package transparency

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// WriteSite writes the site's files under dir, each replaced atomically
// (written beside, then renamed), so a web server never serves half a
// file, and the index and the checkpoint last, so whoever sees a new
// checkpoint finds every file it covers. A path that would leave dir is
// refused.
func WriteSite(dir string, site map[string][]byte) error {
	order := make([]string, 0, len(site))
	for p := range site {
		if p != PathIndex && p != PathCheckpoint {
			order = append(order, p)
		}
	}
	slices.Sort(order)
	for _, p := range []string{PathIndex, PathCheckpoint} {
		if _, ok := site[p]; ok {
			order = append(order, p)
		}
	}
	for _, p := range order {
		b := site[p]
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
		if err := os.Rename(tmp, path); err != nil {
			return errors.Join(err, os.Remove(tmp))
		}
	}
	return nil
}

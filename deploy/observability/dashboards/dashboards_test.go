package dashboards_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ddrsuite/ddr/deploy/observability/dashboards"
)

// The committed JSON is exactly what the code generates: a panel changed
// in Grafana's editor and exported, or a code change not regenerated,
// fails here. `make dashboards` rewrites the files.
func TestCommittedDashboardsAreWhatTheCodeGenerates(t *testing.T) {
	files, err := dashboards.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no dashboards generated")
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Fatalf("%v (run make dashboards and commit)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("deploy/observability/%s is not what the code generates; run make dashboards and commit", name)
		}
	}
}

type rules = dashboards.Rules

var heading = regexp.MustCompile(`(?m)^#{2,4} (.+)$`)

// anchors returns the GitHub-style anchors of a Markdown file's headings.
func anchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range heading.FindAllStringSubmatch(string(b), -1) {
		a := strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
				return r
			case r == ' ':
				return '-'
			}
			return -1
		}, strings.ToLower(m[1]))
		out[a] = true
	}
	return out
}

// Every alert links to its runbook section and to a panel of the suite
// dashboard that shows what it fires on: the panel reads every ddr metric
// the alert's expression reads. Every panel links to a runbook section too.
func TestEveryAlertLinksToItsRunbookSectionAndPanel(t *testing.T) {
	b, err := os.ReadFile("../alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rs rules
	if err := yaml.Unmarshal(b, &rs); err != nil {
		t.Fatal(err)
	}
	sections := anchors(t, "../RUNBOOK.md")
	d, err := dashboards.Suite()
	if err != nil {
		t.Fatal(err)
	}
	exprs := dashboards.Exprs(d)
	dashURL := regexp.MustCompile(`^/d/` + dashboards.UID + `/ddr-suite\?viewPanel=(\d+)$`)
	n := 0
	for _, g := range rs.Groups {
		for _, r := range g.Rules {
			n++
			runbook := r.Annotations["runbook_url"]
			if want := "RUNBOOK.md#" + strings.ToLower(r.Alert); !strings.HasSuffix(runbook, want) {
				t.Errorf("%s: runbook_url %q, want …%s", r.Alert, runbook, want)
			}
			if !sections[strings.ToLower(r.Alert)] {
				t.Errorf("%s: RUNBOOK.md has no section %q", r.Alert, r.Alert)
			}
			m := dashURL.FindStringSubmatch(r.Annotations["dashboard_url"])
			if m == nil {
				t.Errorf("%s: dashboard_url %q is not a panel of %s", r.Alert, r.Annotations["dashboard_url"], dashboards.UID)
				continue
			}
			id, _ := strconv.Atoi(m[1])
			panel, ok := exprs[uint32(id)]
			if !ok {
				t.Errorf("%s: dashboard %s has no panel %d", r.Alert, dashboards.UID, id)
				continue
			}
			shown := map[string]bool{}
			for _, e := range panel {
				for _, name := range dashboards.Metrics(e) {
					shown[name] = true
				}
			}
			for _, name := range dashboards.Metrics(r.Expr) {
				if !shown[name] {
					t.Errorf("%s reads %s, which its panel %d does not show", r.Alert, name, id)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("alerts.yml has no rules")
	}
	for _, p := range d.Panels {
		if p.Panel == nil {
			continue
		}
		if len(p.Panel.Links) == 0 || p.Panel.Links[0].Url == nil {
			t.Errorf("panel %d links to no runbook section", *p.Panel.Id)
			continue
		}
		_, anchor, _ := strings.Cut(*p.Panel.Links[0].Url, "#")
		if !sections[anchor] {
			t.Errorf("panel %d links to RUNBOOK.md#%s, which does not exist", *p.Panel.Id, anchor)
		}
	}
}

func TestMetricsFindsSeriesNotLabels(t *testing.T) {
	got := dashboards.Metrics(`histogram_quantile(0.99, sum by (le) (rate(ddr_x_seconds_bucket{ddr_urgent="true", ddr_y != "a"}[5m]))) / ddr_z`)
	if want := []string{"ddr_x_seconds_bucket", "ddr_z"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Metrics = %v, want %v", got, want)
	}
}

type route struct {
	Receiver string   `yaml:"receiver"`
	Matchers []string `yaml:"matchers"`
	Continue bool     `yaml:"continue"`
	Routes   []route  `yaml:"routes"`
}

// matches supports the equality matchers alertmanager.yml uses (k="v").
func (r route) matches(t *testing.T, labels map[string]string) bool {
	for _, m := range r.Matchers {
		k, v, ok := strings.Cut(m, "=")
		if !ok || strings.ContainsAny(k, "!~") || strings.HasPrefix(v, "~") {
			t.Fatalf("matcher %q: only k=\"v\" is understood here", m)
		}
		if labels[k] != strings.Trim(v, `"`) {
			return false
		}
	}
	return true
}

// receivers walks the tree as Alertmanager does: the first matching child
// wins unless it says continue; no matching child leaves it at the parent.
func (r route) receivers(t *testing.T, labels map[string]string) []string {
	var out []string
	for _, c := range r.Routes {
		if !c.matches(t, labels) {
			continue
		}
		out = append(out, c.receivers(t, labels)...)
		if !c.Continue {
			return out
		}
	}
	if len(out) == 0 {
		out = []string{r.Receiver}
	}
	return out
}

// Emergencies and overdue legal deadlines page the Privacy Team, not only
// SRE; every page reaches a pager, and every rule some receiver.
func TestAlertRoutingPagesThePrivacyTeamForEmergenciesAndOverdueDeadlines(t *testing.T) {
	var am struct {
		Route     route `yaml:"route"`
		Receivers []struct {
			Name string `yaml:"name"`
		} `yaml:"receivers"`
	}
	b, err := os.ReadFile("../alertmanager.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &am); err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{}
	for _, r := range am.Receivers {
		defined[r.Name] = true
	}
	b, err = os.ReadFile("../alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rs rules
	if err := yaml.Unmarshal(b, &rs); err != nil {
		t.Fatal(err)
	}
	privacyPages := map[string]bool{"DDRCasesOverdue": true, "DDREmergencyCaseOverdue": true, "DDRSLOEmergencyReview": true}
	for _, g := range rs.Groups {
		for _, r := range g.Rules {
			labels := map[string]string{"alertname": r.Alert}
			for k, v := range r.Labels {
				labels[k] = v
			}
			got := am.Route.receivers(t, labels)
			for _, name := range got {
				if !defined[name] {
					t.Errorf("%s goes to receiver %q, which is not defined", r.Alert, name)
				}
			}
			want := map[string]bool{}
			switch {
			case privacyPages[r.Alert]:
				want["privacy-pager"], want["sre-pager"] = true, true
			case labels["severity"] == "page":
				want["sre-pager"] = true
			}
			for name := range want {
				if !slices.Contains(got, name) {
					t.Errorf("%s (labels %v) reaches %v, not %s", r.Alert, r.Labels, got, name)
				}
			}
			delete(privacyPages, r.Alert)
		}
	}
	for name := range privacyPages {
		t.Errorf("alerts.yml has no rule %s", name)
	}
}

func TestSelectorsKeepEqualityMatchers(t *testing.T) {
	got := dashboards.Selectors(`sum(rate(ddr_a_total{outcome="delivered", code=~"X|Y"}[1h])) / ddr_b`)
	if len(got) != 2 || got[0].Name != "ddr_a_total" || len(got[0].Labels) != 1 || got[0].Labels["outcome"] != "delivered" || got[1].Name != "ddr_b" {
		t.Errorf("Selectors = %+v", got)
	}
}

package dashboards

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Rules is a Prometheus rule file (deploy/observability/alerts.yml).
type Rules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []Rule `yaml:"rules"`
	} `yaml:"groups"`
}

// Rule is one alerting rule.
type Rule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// ReadRules reads a rule file and returns its rules in order.
func ReadRules(path string) ([]Rule, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rs Rules
	if err := yaml.Unmarshal(b, &rs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []Rule
	for _, g := range rs.Groups {
		out = append(out, g.Rules...)
	}
	return out, nil
}

// Selector is a series an expression reads: its name and the labels it
// must have (equality matchers; regular-expression and negative matchers
// select among series and are not listed).
type Selector struct {
	Name   string
	Labels map[string]string
}

var (
	selector = regexp.MustCompile(`\b(ddr_[a-z0-9_]+)\s*(\{[^}]*\})?`)
	matcher  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!=|!~|=)\s*"([^"]*)"`)
)

// Selectors returns the ddr_ series selectors of a PromQL expression.
func Selectors(expr string) []Selector {
	var out []Selector
	for _, m := range selector.FindAllStringSubmatchIndex(expr, -1) {
		rest := strings.TrimLeft(expr[m[1]:], " ")
		name := expr[m[2]:m[3]]
		if m[4] < 0 && (strings.HasPrefix(rest, "=") || strings.HasPrefix(rest, "!")) {
			continue // a label inside another selector's braces
		}
		s := Selector{Name: name, Labels: map[string]string{}}
		if m[4] >= 0 {
			for _, lm := range matcher.FindAllStringSubmatch(expr[m[4]:m[5]], -1) {
				if lm[2] == "=" {
					s.Labels[lm[1]] = lm[3]
				}
			}
		}
		out = append(out, s)
	}
	return out
}

package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// Every command a person can run explains itself with examples.
func TestEveryCommandHasHelpWithExamples(t *testing.T) {
	root := newRoot(&globals{env: Env{Getenv: func(string) string { return "" }}})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Name() == "help" || c.Name() == "completion" || (c.HasParent() && c.Parent().Name() == "completion") {
			return
		}
		if c.Short == "" || strings.TrimSpace(c.Example) == "" {
			t.Errorf("%q has no short description or no examples", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	root.InitDefaultCompletionCmd()
	walk(root)
}

// Cobra's completion scripts come with the tree, and enum flags complete
// their values.
func TestShellCompletionCompletesEnumValues(t *testing.T) {
	var out bytes.Buffer
	env := Env{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}
	if code := Main(t.Context(), []string{"completion", "bash"}, env); code != 0 || !strings.Contains(out.String(), "ddrctl") {
		t.Fatalf("completion bash: exit %d\n%s", code, out.String())
	}
	out.Reset()
	if code := Main(t.Context(), []string{cobra.ShellCompRequestCmd, "case", "decide", "x", "--kind", ""}, env); code != 0 {
		t.Fatalf("__complete: exit %d\n%s", code, out.String())
	}
	for _, want := range []string{"disclose", "redirect-to-customer", "reject"} {
		if !strings.Contains(out.String(), want+"\n") {
			t.Errorf("--kind completion lacks %q:\n%s", want, out.String())
		}
	}
}

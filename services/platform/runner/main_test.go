package runner

import (
	"log/slog"
	"testing"
)

// --log-level is read in any case: operators write INFO as often as info.
func TestParseLevelIgnoresCase(t *testing.T) {
	for in, want := range map[string]slog.Level{
		"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "Warn": slog.LevelWarn,
		"error": slog.LevelError, "DEBUG-4": slog.LevelDebug - 4,
	} {
		got, err := parseLevel(in)
		if err != nil || got != want {
			t.Errorf("parseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseLevel("verbose"); err == nil {
		t.Error(`parseLevel("verbose") succeeded; want an error`)
	}
}

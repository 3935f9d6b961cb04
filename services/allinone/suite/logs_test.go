package suite_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ddrsuite/ddr/services/platform/runner/runnertest"
	"github.com/ddrsuite/ddr/services/platform/telemetry"
)

// Logs lead to traces: every log line about a request — one that names it
// in any field — carries the request's ddr.request_id and a trace_id, and
// the calls' access lines (which name no request themselves) carry both
// too, so an SRE goes from a line to the trace.
func TestEveryLogLineAboutARequestCarriesItsTraceAndRequestID(t *testing.T) {
	logs := &lockedBuffer{}
	p := startSuite(t, runnertest.Options{Logs: logs})
	id := driveRequest(t, p, "warrant-2026-logs")
	p.Stop(t)

	about, withID, accessLines := 0, 0, 0
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, line)
		}
		names := false
		for k, v := range rec {
			names = names || (k != telemetry.RequestIDKey && fmt.Sprint(v) == id)
		}
		rid, _ := rec[telemetry.RequestIDKey].(string)
		if rid == id {
			withID++
			if rec["msg"] == "rpc" {
				accessLines++
			}
		}
		if !names {
			continue
		}
		about++
		if rid != id || rec[telemetry.TraceIDKey] == nil {
			t.Errorf("a line about request %s lacks ddr.request_id or trace_id: %s", id, line)
		}
	}
	// Submit, the case's reads and the staff calls are logged as rpc lines;
	// the reactors' and notification's lines name the request.
	if about == 0 || accessLines < 5 {
		t.Fatalf("%d lines name request %s, %d rpc lines carry its ddr.request_id (%d lines in all); want some and at least 5", about, id, accessLines, withID)
	}
	t.Logf("%d lines name the request, %d carry its ddr.request_id (%d rpc lines)", about, withID, accessLines)
}

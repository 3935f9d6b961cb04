package grpcserver_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ddrsuite/ddr/services/platform/auth"
	"github.com/ddrsuite/ddr/services/platform/grpcclient"
	"github.com/ddrsuite/ddr/services/platform/grpcserver"
)

func TestAccessLogRecordsCallButNeverBodies(t *testing.T) {
	handlerTrace := make(chan string, 1)
	f := start(t, grpcserver.Config{DevIdentityHeader: true}, &probe{do: func(ctx context.Context, req string) (string, error) {
		handlerTrace <- traceIDOf(ctx)
		return "reply-for-" + req, nil
	}})
	caller, err := auth.ParseSPIFFE("spiffe://ddr.example/staff/s-1")
	if err != nil {
		t.Fatal(err)
	}
	conn := dial(t, f.addr, grpcclient.WithDevIdentity(caller))

	if _, err := callDo(t.Context(), conn, "jane.doe@example.com"); err != nil {
		t.Fatal(err)
	}

	logged := f.logs.Lines(t, "rpc")
	if len(logged) != 1 {
		t.Fatalf("%d access log lines, want 1:\n%s", len(logged), f.logs)
	}
	l := logged[0]
	if l["method"] != doMethod || l["code"] != "OK" || l["caller"] != caller.URI || l["trace_id"] != <-handlerTrace {
		t.Errorf("access log %v: want method %s, code OK, caller %s and the handler's trace id", l, doMethod, caller.URI)
	}
	if _, ok := l["duration"].(float64); !ok {
		t.Errorf("access log %v lacks a numeric duration", l)
	}
	if strings.Contains(f.logs.String(), "jane.doe") {
		t.Errorf("logs contain the request body:\n%s", f.logs)
	}
}

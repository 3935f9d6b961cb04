package grpcserver_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ddrsuite/ddr/services/platform/grpcserver"
)

func panicky() *probe {
	return &probe{do: func(_ context.Context, req string) (string, error) {
		if req == "panic" {
			var m map[string]int
			m["boom"]++ //nolint:govet,staticcheck // nilness, SA5000: the nil-map write is the runtime panic under test
		}
		return "ok", nil
	}}
}

func TestPanicBecomesInternalAndServerKeepsServing(t *testing.T) {
	f := start(t, grpcserver.Config{}, panicky())
	conn := dial(t, f.addr)

	calls := map[string]func(context.Context, string) (string, error){
		"unary":  func(ctx context.Context, req string) (string, error) { return callDo(ctx, conn, req) },
		"stream": func(ctx context.Context, req string) (string, error) { return callWatch(ctx, conn, req) },
	}
	for kind, call := range calls {
		_, err := call(t.Context(), "panic")
		s := status.Convert(err)
		if s.Code() != codes.Internal || !internalMessage.MatchString(s.Message()) || strings.Contains(s.Message(), "nil map") {
			t.Errorf("%s panic: got %v %q, want Internal with only a trace id", kind, s.Code(), s.Message())
		}
		if out, err := call(t.Context(), "fine"); err != nil || out != "ok" {
			t.Errorf("%s call after panic = %q, %v; want ok", kind, out, err)
		}
	}

	logged := f.logs.Lines(t, "panic in handler")
	if len(logged) != 2 {
		t.Fatalf("%d panic log lines, want 2:\n%s", len(logged), f.logs)
	}
	for _, l := range logged {
		if !strings.Contains(l["stack"].(string), "panicky") || l["trace_id"] == "" {
			t.Errorf("panic log %v lacks the stack or trace id", l)
		}
	}
}

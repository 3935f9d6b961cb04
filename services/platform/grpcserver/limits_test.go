package grpcserver_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ddrsuite/ddr/services/platform/grpcserver"
)

// A request larger than the server accepts is refused before any handler
// runs, and one just under the limit gets through.
func TestRequestOverMaxRecvMsgSizeIsRefused(t *testing.T) {
	handled := 0
	f := start(t, grpcserver.Config{MaxRecvMsgSize: 64 << 10}, &probe{do: func(context.Context, string) (string, error) {
		handled++
		return "ok", nil
	}})
	conn := dial(t, f.addr)
	if _, err := callDo(t.Context(), conn, strings.Repeat("x", 65<<10)); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("65 KiB request to a 64 KiB server: %v, want ResourceExhausted", err)
	}
	if handled != 0 {
		t.Errorf("the handler ran %d times for a refused request", handled)
	}
	if _, err := callDo(t.Context(), conn, strings.Repeat("x", 60<<10)); err != nil {
		t.Errorf("60 KiB request: %v", err)
	}
}

package telemetry

import (
	"context"
	"strings"

	"google.golang.org/grpc/stats"
)

// stringKey is where a context keeps a string of this package: the
// component, or the request id. An empty string is never stored, so one
// that is there is set.
type stringKey int

const (
	componentKey stringKey = iota
	requestIDKey
)

func (k stringKey) with(ctx context.Context, s string) context.Context {
	if s == "" {
		return ctx
	}
	return context.WithValue(ctx, k, s)
}

func (k stringKey) from(ctx context.Context) (string, bool) {
	s, ok := ctx.Value(k).(string)
	return s, ok
}

// WithComponent marks ctx as the work of one service of the suite
// ("intake", "assessment", ...). Spans started under it are reported as
// that service (their resource's service.name), so an all-in-one process
// shows the four services in a trace as separate processes, exactly as a
// deployment of four binaries does.
func WithComponent(ctx context.Context, name string) context.Context {
	return componentKey.with(ctx, name)
}

// ComponentFromContext is the service set by [WithComponent], or "".
func ComponentFromContext(ctx context.Context) string {
	s, _ := componentKey.from(ctx)
	return s
}

// ComponentOfService maps a gRPC service of ours to its component:
// "ddr.intake.v1.IntakeService" is "intake". Other services (health,
// reflection) belong to no component: "".
func ComponentOfService(service string) string {
	parts := strings.Split(service, ".")
	if len(parts) < 4 || parts[0] != "ddr" {
		return ""
	}
	return parts[1]
}

// ComponentOfMethod does the same for a full method name,
// "/ddr.intake.v1.IntakeService/Submit".
func ComponentOfMethod(fullMethod string) string {
	svc, _, _ := strings.Cut(strings.TrimPrefix(fullMethod, "/"), "/")
	return ComponentOfService(svc)
}

// ServerStatsHandler wraps the server's tracing stats handler so that each
// call runs under [WithComponent] of the service it calls: its server span
// and every span of its handler are that service's.
func ServerStatsHandler(h stats.Handler) stats.Handler { return componentStats{h} }

type componentStats struct{ stats.Handler }

func (c componentStats) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	return c.Handler.TagRPC(WithComponent(ctx, ComponentOfMethod(info.FullMethodName)), info)
}

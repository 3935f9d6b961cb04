module github.com/ddrsuite/ddr/services/console

go 1.26.0

require (
	github.com/coreos/go-oidc/v3 v3.21.0
	github.com/ddrsuite/ddr/gen v0.0.0
	github.com/ddrsuite/ddr/services/platform v0.0.0
	golang.org/x/oauth2 v0.38.0
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261110000943-09e21b237f2c
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
)

require (
	buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go v1.36.12-20260825204119-511051f7f437.2 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/go-jose/go-jose/v4 v4.1.4 // indirect
	github.com/go-logr/logr v1.4.4 // indirect
	github.com/go-logr/stdr v1.2.2 // indirect
	go.opentelemetry.io/auto/sdk v1.2.1 // indirect
	go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc v0.72.0 // indirect
	go.opentelemetry.io/otel v1.47.0 // indirect
	go.opentelemetry.io/otel/log v1.47.0 // indirect
	go.opentelemetry.io/otel/metric v1.47.0 // indirect
	go.opentelemetry.io/otel/trace v1.47.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.44.0 // indirect
)

replace (
	github.com/ddrsuite/ddr/gen => ../../gen
	github.com/ddrsuite/ddr/services/allinone => ../allinone
	github.com/ddrsuite/ddr/services/assessment => ../assessment
	github.com/ddrsuite/ddr/services/intake => ../intake
	github.com/ddrsuite/ddr/services/notification => ../notification
	github.com/ddrsuite/ddr/services/platform => ../platform
	github.com/ddrsuite/ddr/services/reporting => ../reporting
)

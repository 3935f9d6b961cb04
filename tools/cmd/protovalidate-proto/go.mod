module github.com/ddrsuite/ddr/tools/cmd/protovalidate-proto

go 1.26.7

require (
	buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go v1.36.12-20260825204119-511051f7f437.2
	github.com/bufbuild/protocompile v0.14.1
	github.com/google/go-cmp v0.7.0
	github.com/jhump/protoreflect/v2 v2.0.0
	google.golang.org/protobuf v1.36.12
)

require golang.org/x/sync v0.22.0 // indirect

// Command protovalidate-proto writes buf/validate/validate.proto, printed from
// the descriptor compiled into the protovalidate Go module.
//
// It exists because the Buf Schema Registry cannot be reached from here and
// we do not commit third-party .proto files: the Go module proxy serves the
// generated Go code, whose embedded descriptor is the schema. Before writing,
// the printed source is compiled again and compared with that descriptor, so
// a printer mistake fails the build instead of changing the schema quietly.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"github.com/bufbuild/protocompile"
	"github.com/google/go-cmp/cmp"
	"github.com/jhump/protoreflect/v2/protoprint"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/descriptorpb"
)

func main() {
	out := flag.String("out", ".build/protovalidate", "root `dir` to write buf/validate/validate.proto under")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "protovalidate-proto:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	fd := validate.File_buf_validate_validate_proto
	var src bytes.Buffer
	p := protoprint.Printer{}
	if err := p.PrintProtoFile(fd, &src); err != nil {
		return fmt.Errorf("print %s: %w", fd.Path(), err)
	}
	if err := roundTrip(fd, src.Bytes()); err != nil {
		return err
	}
	path := filepath.Join(root, filepath.FromSlash(fd.Path()))
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	// Skip identical content so buf and make see an unchanged file.
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, src.Bytes()) {
		return nil
	}
	return os.WriteFile(path, src.Bytes(), 0o600)
}

// roundTrip compiles the printed source and checks it describes the same
// schema as the embedded descriptor.
func roundTrip(want protoreflect.FileDescriptor, src []byte) error {
	c := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{
			Accessor: func(name string) (io.ReadCloser, error) {
				if name != want.Path() {
					return nil, os.ErrNotExist
				}
				return io.NopCloser(bytes.NewReader(src)), nil
			},
		}),
	}
	files, err := c.Compile(context.Background(), want.Path())
	if err != nil {
		return fmt.Errorf("printed %s does not compile: %w", want.Path(), err)
	}
	got := protodesc.ToFileDescriptorProto(files[0])
	exp := protodesc.ToFileDescriptorProto(want)
	for _, f := range []*descriptorpb.FileDescriptorProto{got, exp} {
		f.SourceCodeInfo = nil
	}
	if diff := cmp.Diff(exp, got, protocmp.Transform()); diff != "" {
		return fmt.Errorf("printed %s differs from the embedded descriptor (-want +got):\n%s", want.Path(), diff)
	}
	return nil
}

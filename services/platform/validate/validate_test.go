package validate_test

import (
	"errors"
	"testing"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	pvalidate "github.com/ddrsuite/ddr/services/platform/validate"
)

// requestType builds, without generated code, the equivalent of
//
//	message Request {
//	  string service = 1 [(buf.validate.field).string.min_len = 1];
//	  string country = 2 [(buf.validate.field).string.len = 2];
//	}
func requestType(t *testing.T) protoreflect.MessageType {
	t.Helper()
	field := func(name string, number int32, rules *validate.StringRules) *descriptorpb.FieldDescriptorProto {
		opts := &descriptorpb.FieldOptions{}
		proto.SetExtension(opts, validate.E_Field, validate.FieldRules_builder{String: rules}.Build())
		return &descriptorpb.FieldDescriptorProto{
			Name:     proto.String(name),
			JsonName: proto.String(name),
			Number:   proto.Int32(number),
			Type:     descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(),
			Label:    descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
			Options:  opts,
		}
	}
	file := &descriptorpb.FileDescriptorProto{
		Name:       proto.String("ddr/test/v1/request.proto"),
		Package:    proto.String("ddr.test.v1"),
		Syntax:     proto.String("proto3"),
		Dependency: []string{"buf/validate/validate.proto"},
		MessageType: []*descriptorpb.DescriptorProto{{
			Name: proto.String("Request"),
			Field: []*descriptorpb.FieldDescriptorProto{
				field("service", 1, validate.StringRules_builder{MinLen: proto.Uint64(1)}.Build()),
				field("country", 2, validate.StringRules_builder{Len: proto.Uint64(2)}.Build()),
			},
		}},
	}
	var files protoregistry.Files
	if err := files.RegisterFile(validate.File_buf_validate_validate_proto); err != nil {
		t.Fatal(err)
	}
	fd, err := protodesc.NewFile(file, &files)
	if err != nil {
		t.Fatal(err)
	}
	return dynamicpb.NewMessageType(fd.Messages().ByName("Request"))
}

func newRequest(mt protoreflect.MessageType, service, country string) proto.Message {
	m := mt.New()
	fields := mt.Descriptor().Fields()
	m.Set(fields.ByName("service"), protoreflect.ValueOfString(service))
	m.Set(fields.ByName("country"), protoreflect.ValueOfString(country))
	return m.Interface()
}

func TestCheckPassesValidMessage(t *testing.T) {
	v, err := pvalidate.New()
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Check(newRequest(requestType(t), "intake", "DE")); err != nil {
		t.Errorf("Check(valid) = %v, want nil", err)
	}
}

func TestCheckReportsOneFieldViolationPerBrokenRule(t *testing.T) {
	v, err := pvalidate.New()
	if err != nil {
		t.Fatal(err)
	}

	err = v.Check(newRequest(requestType(t), "", "DEU"))

	var ve *ddrerr.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Check() = %v, want *ddrerr.ValidationError", err)
	}
	want := []ddrerr.FieldViolation{
		{Field: "service", Description: "must be at least 1 characters"},
		{Field: "country", Description: "must be 2 characters"},
	}
	if diff := cmp.Diff(want, ve.Violations); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
}

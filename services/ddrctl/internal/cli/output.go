package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"sigs.k8s.io/yaml"

	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

// print writes m as JSON or YAML, or calls table for people.
func (g *globals) print(m proto.Message, table func(t *tw)) error {
	w := g.env.Stdout
	switch g.output {
	case "json", "yaml":
		b, err := marshal(m, g.output == "yaml")
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	t := newTW(w)
	table(t)
	return t.Flush()
}

// marshal renders m with the proto field names, as the input files use.
// protojson's own spacing is deliberately unstable, so it is re-indented.
func marshal(m proto.Message, asYAML bool) ([]byte, error) {
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
	if err != nil {
		return nil, err
	}
	if asYAML {
		return yaml.JSONToYAML(b)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// tw is a tab-aligned table writer with helpers for ddrctl's layouts.
type tw struct {
	*tabwriter.Writer
	started bool
}

func newTW(w io.Writer) *tw { return &tw{Writer: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)} }

// kv writes "KEY<tab>value" lines.
func (t *tw) kv(pairs ...string) {
	t.started = true
	for i := 0; i+1 < len(pairs); i += 2 {
		fmt.Fprintf(t, "%s\t%s\n", pairs[i], pairs[i+1])
	}
}

// section starts a titled table after a blank line.
func (t *tw) section(title string, header ...string) {
	if t.started {
		fmt.Fprintln(t)
	}
	t.started = true
	if title != "" {
		fmt.Fprintln(t, title)
	}
	if len(header) > 0 {
		t.row(header...)
	}
}

func (t *tw) row(cols ...string) {
	t.started = true
	fmt.Fprintln(t, strings.Join(cols, "\t"))
}

func ts(t *timestamppb.Timestamp) string {
	if t == nil {
		return "-"
	}
	return t.AsTime().UTC().Format(time.RFC3339)
}

func dur(d *durationpb.Duration) string {
	if d == nil {
		return "-"
	}
	return d.AsDuration().Round(time.Second).String()
}

func yesno(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// enumName is an enum value as people read and type it: STAGE_UNDER_REVIEW
// is "under_review".
func enumName(e protoreflect.Enum) string {
	return orDash(protoconv.Label(e))
}

// oneLine keeps free text on one table row.
func oneLine(s string, limit int) string {
	s = strings.Join(strings.Fields(s), " ")
	if limit > 0 && len([]rune(s)) > limit {
		return string([]rune(s)[:limit-1]) + "…"
	}
	return orDash(s)
}

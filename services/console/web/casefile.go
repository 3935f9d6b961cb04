package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
)

// export writes the whole case as one JSON file for legal: the request
// with its amendments, the case with its decisions, the plan, the record
// and its verification, each as the service answered (or the refusal).
func (c *Console) export(w http.ResponseWriter, r *http.Request, ss *session) {
	id, ctx, cancel, ok := c.onRequest(w, r, ss)
	if !ok {
		return
	}
	defer cancel()
	type part struct {
		name string
		get  func() (proto.Message, error)
	}
	parts := []part{
		{"request", func() (proto.Message, error) {
			return c.intake.GetRequestForReview(ctx, &intakev1.GetRequestForReviewRequest{RequestId: id})
		}},
		{"case", func() (proto.Message, error) {
			return c.assessment.GetCase(ctx, &assessmentv1.GetCaseRequest{RequestId: id})
		}},
		{"plan", func() (proto.Message, error) {
			return c.notification.GetPlan(ctx, &notificationv1.GetPlanRequest{RequestId: id})
		}},
		{"record", func() (proto.Message, error) {
			return c.reporting.GetRecord(ctx, &reportingv1.GetRecordRequest{RequestId: id})
		}},
		{"verification", func() (proto.Message, error) {
			return c.reporting.VerifyRecord(ctx, &reportingv1.VerifyRecordRequest{RequestId: id})
		}},
	}
	file := map[string]any{
		"request_id":  id,
		"exported_at": c.now().UTC().Format(time.RFC3339),
		"exported_by": ss.name,
	}
	for _, p := range parts {
		m, err := p.get()
		if err != nil {
			if p.name == "request" && httpStatus(err) == http.StatusNotFound {
				c.failed(w, r, ss, "Case file", err)
				return
			}
			file[p.name] = map[string]any{"unavailable": describe(err)}
			continue
		}
		b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(m)
		if err != nil {
			c.renderError(w, r, http.StatusInternalServerError, "The case file could not be written.")
			return
		}
		file[p.name] = json.RawMessage(b)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(file); err != nil {
		c.renderError(w, r, http.StatusInternalServerError, "The case file could not be written.")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="case-%s.json"`, id))
	_, _ = buf.WriteTo(w)
}

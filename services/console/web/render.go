package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ddrsuite/ddr/services/platform/ddrerr"
	"github.com/ddrsuite/ddr/services/platform/grpcstatus"
	"github.com/ddrsuite/ddr/services/platform/protoconv"
)

//go:embed templates
var templateFS embed.FS

// templates holds one parsed set per page: the layout plus the page.
type templates map[string]*template.Template

var pages = []string{"queue", "case", "plan", "record", "report", "intake", "error", "signedin", "signedout"}

func parseTemplates() (templates, error) {
	t := templates{}
	for _, p := range pages {
		tp, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", p, err)
		}
		t[p] = tp
	}
	return t, nil
}

var funcs = template.FuncMap{
	"enum": enumName,
	"ts": func(t *timestamppb.Timestamp) string {
		if t == nil || (t.GetSeconds() == 0 && t.GetNanos() == 0) {
			return "–"
		}
		return t.AsTime().UTC().Format("2006-01-02 15:04 UTC")
	},
	"age": func(d *durationpb.Duration) string {
		if d == nil {
			return "–"
		}
		return humanDuration(d.AsDuration())
	},
	"hex": func(b []byte) string {
		if len(b) == 0 {
			return "–"
		}
		return fmt.Sprintf("%x", b)
	},
	"short": func(b []byte) string {
		if len(b) == 0 {
			return "–"
		}
		s := fmt.Sprintf("%x", b)
		return s[:min(16, len(s))]
	},
	"join": strings.Join,
	"dash": func(s string) string {
		if s == "" {
			return "–"
		}
		return s
	},
	"yesno": func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	},
}

// enumName is an enum value as people read it: STEP_KIND_NOTIFY_DPA is
// "notify dpa".
func enumName(e protoreflect.Enum) string {
	name := protoconv.Label(e)
	if name == "" {
		return "–"
	}
	return strings.ReplaceAll(name, "_", " ")
}

func humanDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	}
}

// view is what every page template receives.
type view struct {
	Title   string
	Nav     string
	User    string
	CSRF    string
	Refusal *refusal
	Notice  string
	// Done names the action just done (the notice's id, done-<action>).
	Done string
	Data any
}

// refusal is a service's "no", shown as the service gave it: the policy's
// clause and explanation, the fields that were wrong, or what kind of
// failure it was. Internals are never shown.
type refusal struct {
	Kind    string
	Clause  string
	Clauses []string
	Rule    string
	Reason  string
	Fields  []ddrerr.FieldViolation
	Message string
}

// renderPage renders a page that may carry a refusal: 409 with it, so a
// refused action is not taken for a success, else 200.
func (c *Console) renderPage(w http.ResponseWriter, r *http.Request, name string, v *view) {
	code := http.StatusOK
	if v.Refusal != nil {
		code = http.StatusConflict
	}
	c.render(w, r, code, name, v)
}

// httpStatuses are the page statuses of a gRPC answer's codes; any other
// code is a 500.
var httpStatuses = map[codes.Code]int{
	codes.InvalidArgument:    http.StatusUnprocessableEntity,
	codes.FailedPrecondition: http.StatusConflict,
	codes.Aborted:            http.StatusConflict,
	codes.AlreadyExists:      http.StatusConflict,
	codes.NotFound:           http.StatusNotFound,
	codes.PermissionDenied:   http.StatusForbidden,
	codes.Unauthenticated:    http.StatusUnauthorized,
	codes.Unavailable:        http.StatusServiceUnavailable,
	codes.DeadlineExceeded:   http.StatusServiceUnavailable,
}

// httpStatus maps a gRPC answer to the page's status.
func httpStatus(err error) int {
	if code, ok := httpStatuses[status.Code(err)]; ok {
		return code
	}
	return http.StatusInternalServerError
}

func describe(err error) *refusal {
	s, _ := status.FromError(err)
	switch s.Code() {
	case codes.FailedPrecondition:
		if pv, ok := grpcstatus.PolicyViolationFrom(err); ok {
			return &refusal{Kind: "Refused by the policy", Clause: pv.Clause, Clauses: pv.Clauses, Rule: pv.Rule, Reason: pv.Reason, Message: s.Message()}
		}
		return &refusal{Kind: "Refused", Message: s.Message()}
	case codes.InvalidArgument:
		return &refusal{Kind: "Not accepted", Fields: grpcstatus.FieldViolationsFrom(err), Message: s.Message()}
	case codes.NotFound:
		return &refusal{Kind: "Not found", Message: s.Message()}
	case codes.PermissionDenied:
		return &refusal{Kind: "Not permitted", Message: s.Message()}
	case codes.Aborted, codes.AlreadyExists:
		return &refusal{Kind: "Changed meanwhile", Message: s.Message() + " (reload the page and try again)"}
	case codes.Unauthenticated:
		return &refusal{Kind: "Not signed in", Message: "The services did not accept your sign-in (" + s.Message() + "). Sign out and in again."}
	case codes.Unavailable, codes.DeadlineExceeded:
		return &refusal{Kind: "Unavailable", Message: "The suite did not answer. Try again shortly."}
	}
	return &refusal{Kind: "Failed", Message: "The service failed; the operators can find the cause in its log."}
}

// render executes page into a buffer first, so a template error never
// sends half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, code int, page string, v *view) {
	if v == nil {
		v = &view{}
	}
	var buf bytes.Buffer
	if err := c.tmpl[page].ExecuteTemplate(&buf, "layout.html", v); err != nil {
		c.log.Error("template failed", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = buf.WriteTo(w)
	_ = r
}

func (c *Console) renderError(w http.ResponseWriter, r *http.Request, code int, msg string) {
	c.render(w, r, code, "error", &view{Title: http.StatusText(code), Refusal: &refusal{Kind: http.StatusText(code), Message: msg}})
}

// failed shows a service's refusal on its own page (for GET pages whose
// main call failed).
func (c *Console) failed(w http.ResponseWriter, r *http.Request, ss *session, what string, err error) {
	c.log.Info("call refused", "what", what, "code", status.Code(err).String())
	c.render(w, r, httpStatus(err), "error", &view{Title: what, User: ss.name, CSRF: ss.csrf, Refusal: describe(err)})
}

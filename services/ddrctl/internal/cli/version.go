package cli

import (
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	assessmentv1 "github.com/ddrsuite/ddr/gen/ddr/assessment/v1"
	intakev1 "github.com/ddrsuite/ddr/gen/ddr/intake/v1"
	notificationv1 "github.com/ddrsuite/ddr/gen/ddr/notification/v1"
	reportingv1 "github.com/ddrsuite/ddr/gen/ddr/reporting/v1"
)

// Version is set at build time (-ldflags "-X .../cli.Version=v1.2.3");
// otherwise the VCS revision the binary was built from is shown.
var Version = "dev"

func buildVersion() string {
	v := Version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}

func versionCmd(g *globals) *cobra.Command {
	var offline bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Show ddrctl's version and whether the suite's services serve",
		Example: `  ddrctl version
  ddrctl version --offline`,
		Args: args(0),
		RunE: run(func(cmd *cobra.Command, _ []string) error {
			t := newTW(g.env.Stdout)
			t.kv("DDRCTL", buildVersion(), "GO", runtime.Version(), "SUITE", g.addr)
			if !offline {
				cl, err := g.client()
				if err != nil {
					return err
				}
				h := healthpb.NewHealthClient(cl.Conn())
				t.section("", "SERVICE", "HEALTH")
				for _, svc := range []string{
					intakev1.IntakeService_ServiceDesc.ServiceName,
					assessmentv1.AssessmentService_ServiceDesc.ServiceName,
					notificationv1.NotificationService_ServiceDesc.ServiceName,
					reportingv1.ReportingService_ServiceDesc.ServiceName,
				} {
					ctx, cancel := g.ctx(cmd)
					res, err := h.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
					cancel()
					state := strings.ToLower(res.GetStatus().String())
					if err != nil {
						state = strings.ToLower(status.Code(err).String())
					}
					t.row(svc, state)
				}
			}
			return t.Flush()
		}),
	}
	cmd.Flags().BoolVar(&offline, "offline", false, "do not ask the suite")
	return cmd
}

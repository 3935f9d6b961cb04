// Package config lets every flag also be set from the environment, so the
// same binary runs from a shell (flags) and from a container or systemd unit
// (environment) without a config file format of its own.
package config

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// ApplyEnv sets each flag of fs that was not given on the command line from
// the environment variable PREFIX_NAME: the flag name upper-cased with '-'
// turned into '_' (flag "otlp-endpoint" with prefix "INTAKE" reads
// INTAKE_OTLP_ENDPOINT; an empty prefix reads OTLP_ENDPOINT). The command
// line wins over the environment, which wins over the default. Call it
// after fs.Parse. An error names the variable but not its value, which may
// be a secret.
//
// Flags named in cmdLineOnly are never read from the environment: a switch
// that lowers security must be typed on the command line, where it is seen,
// not inherited from an environment nobody reads.
func ApplyEnv(fs *flag.FlagSet, prefix string, cmdLineOnly ...string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, name := range cmdLineOnly {
		set[name] = true
	}

	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || set[f.Name] {
			return
		}
		name := EnvName(prefix, f.Name)
		v, ok := os.LookupEnv(name)
		if !ok {
			return
		}
		if serr := fs.Set(f.Name, v); serr != nil {
			err = fmt.Errorf("config: environment variable %s: invalid value for flag -%s", name, f.Name)
		}
	})
	return err
}

// EnvName is the environment variable ApplyEnv reads for a flag; use it in
// usage text.
func EnvName(prefix, flagName string) string {
	name := strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
	if prefix == "" {
		return name
	}
	return strings.ToUpper(prefix) + "_" + name
}

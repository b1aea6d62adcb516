// A CoreDNS with only the plugins the harness node needs: cluster DNS from the
// API server (kubernetes) on one address (bind), with caching, health and logging. Every other plugin
// of the full build (cloud providers, dnstap, etcd, ...) is left out, which keeps
// the cold build small. See docs/kubernetes-test-harness.md.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

// The order in which the plugins handle a query (the order of plugin.cfg).
var directives = []string{"bind", "errors", "log", "health", "ready", "cache", "kubernetes"}

func init() { dnsserver.Directives = directives }

func main() { coremain.Run() }

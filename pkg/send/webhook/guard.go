package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"github.com/argoproj-labs/argo-notify/pkg/notify"
)

// Resolver resolves a host name to its addresses (*net.Resolver is one).
type Resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// blockedPrefixes are addresses a webhook may never reach: link-local
// (where cloud metadata services live: 169.254.169.254, fe80::/10) and
// the EC2 IPv6 metadata address.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("fd00:ec2::254/128"),
}

// BlockedError is a webhook address the service refuses to call. It is
// permanent: the URL must change.
type BlockedError struct {
	Host   string
	Reason string
}

// Error implements error.
func (e *BlockedError) Error() string {
	return fmt.Sprintf("webhook host %q refused: %s", e.Host, e.Reason)
}

// allowed reports why ip may not be called, or "" when it may. Loopback is
// allowed only with allowLoopback (local mode): on AWS it would reach the
// Lambda runtime API.
func allowed(ip netip.Addr, allowLoopback bool) string {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return "not an IP address"
	case ip.IsUnspecified(), ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "unspecified or multicast address " + ip.String()
	case ip.IsLoopback() && !allowLoopback:
		return "loopback address " + ip.String()
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return "link-local or cloud metadata address " + ip.String()
		}
	}
	return ""
}

// guard resolves and checks the addresses a webhook connects to.
type guard struct {
	resolver      Resolver
	allowLoopback bool
	// loopbackOnly refuses every address but loopback (for http://).
	loopbackOnly bool
}

// why says why ip may not be called, or "" when it may.
func (g *guard) why(ip netip.Addr) string {
	if g.loopbackOnly && !ip.Unmap().IsLoopback() {
		return "http:// may only reach loopback, not " + ip.String()
	}
	return allowed(ip, g.allowLoopback)
}

// resolve returns the addresses of host, each checked; a *BlockedError if
// any is refused (a name that resolves to one refused address among
// allowed ones is refused as a whole, so the choice of address cannot
// matter).
func (g *guard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip.WithZone("")}
	} else {
		addrs, err := g.resolver.LookupIPAddr(ctx, host)
		if err != nil {
			return nil, fmt.Errorf("resolve webhook host %q: %w", host, err)
		}
		for _, a := range addrs {
			if ip, ok := netip.AddrFromSlice(a.IP); ok {
				ips = append(ips, ip.Unmap())
			}
		}
		if len(ips) == 0 {
			return nil, fmt.Errorf("resolve webhook host %q: no address", host)
		}
	}
	for _, ip := range ips {
		if why := g.why(ip); why != "" {
			return nil, &BlockedError{Host: host, Reason: why}
		}
	}
	return ips, nil
}

// dialContext dials addr ("host:port") at an address resolved and checked
// here; the dialer's Control checks the address actually connected to
// again, so neither DNS rebinding nor a resolver quirk can reach a refused
// address.
func (g *guard) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ips, err := g.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Control: g.control}
	var errs []error
	for _, ip := range ips {
		c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// control refuses a connection to a refused address, after resolution,
// right before connect.
func (g *guard) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &BlockedError{Host: address, Reason: "not an IP address"}
	}
	if why := g.why(ap.Addr()); why != "" {
		return &BlockedError{Host: address, Reason: why}
	}
	return nil
}

// checkURL validates a webhook URL for connecting it: https (or http to a
// loopback host when allowed), and every address it resolves to allowed.
// Failures are EInvalid on field "url".
func (g *guard) checkURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return notify.Invalid("url", "must be an absolute https:// URL")
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && g.allowLoopback) {
		return notify.Invalid("url", "must be an https:// URL")
	}
	ips, err := g.resolve(ctx, u.Hostname())
	var be *BlockedError
	if errors.As(err, &be) {
		return notify.Invalid("url", "resolves to a refused address (%s)", be.Reason)
	}
	if err != nil {
		return notify.Invalid("url", "the host cannot be resolved")
	}
	if u.Scheme == "http" {
		for _, ip := range ips {
			if !ip.IsLoopback() {
				return notify.Invalid("url", "must be an https:// URL (http:// is allowed only to loopback)")
			}
		}
	}
	return nil
}

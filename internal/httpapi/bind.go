package httpapi

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/agentexec/agentexec"
)

// DefaultBind is the address serve listens on without --bind or --port.
var DefaultBind = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), 19263)

// ParseBind parses a --bind value: IPv4:PORT or [IPv6]:PORT. Host names,
// including localhost, are rejected so that the bind guard judges the
// address actually bound rather than whatever a resolver returns.
func ParseBind(s string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil || !ap.Addr().IsValid() {
		return netip.AddrPort{}, &agentexec.Error{Code: agentexec.CodeInvalidArgument,
			Message: fmt.Sprintf("invalid bind address %q: expected IPv4:PORT or [IPv6]:PORT", s)}
	}
	return ap, nil
}

// IsLoopback reports whether a is in 127.0.0.0/8 or is ::1 (an IPv4-mapped
// IPv6 loopback address counts as its IPv4 form).
func IsLoopback(a netip.Addr) bool {
	return a.Unmap().IsLoopback()
}

// CheckBind is the bind guard of SPEC §5.1: a non-loopback address needs
// both insecure (--insecure) and a non-empty token.
func CheckBind(ap netip.AddrPort, insecure bool, token string) error {
	if IsLoopback(ap.Addr()) || insecure && token != "" {
		return nil
	}
	return &agentexec.Error{Code: agentexec.CodeServeUnsafeBind,
		Message: fmt.Sprintf("refusing to bind non-loopback address %s without --insecure and AGENT_EXEC_SERVE_TOKEN", ap)}
}

// ValidateOrigin checks an --allow-origin value: http(s)://host[:port] with
// no path, query, fragment or credentials. It returns the origin in the
// lower-case form browsers serialise. Wildcards are refused because CORS
// here must never open the API to every page.
func ValidateOrigin(s string) (string, error) {
	bad := func(why string) (string, error) {
		return "", &agentexec.Error{Code: agentexec.CodeInvalidConfig,
			Message: fmt.Sprintf("invalid --allow-origin %q: %s", s, why)}
	}
	if strings.Contains(s, "*") {
		return bad("wildcards are not allowed")
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad("expected http(s)://host[:port] without a path")
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" || u.Opaque != "" || u.User != nil || u.Host == "" ||
		u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.HasSuffix(s, "#") {
		return bad("expected http(s)://host[:port] without a path")
	}
	if u.Hostname() == "" {
		return bad("expected http(s)://host[:port] without a path")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return bad("invalid port")
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return bad("invalid port")
	}
	return scheme + "://" + strings.ToLower(u.Host), nil
}

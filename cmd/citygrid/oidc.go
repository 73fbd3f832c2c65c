package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"citygrid/access"
	"citygrid/httpapi"
)

// oidcConfig is the OpenID Connect sign-in the settings ask for, or nil
// when no issuer is set.
func (c *Config) oidcConfig() (*httpapi.OIDCConfig, error) {
	if c.OIDCIssuer == "" {
		return nil, nil
	}
	u, err := url.Parse(c.OIDCIssuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("oidc-issuer %q: want an http(s) URL", c.OIDCIssuer)
	}
	if c.OIDCClientID == "" {
		return nil, errors.New("oidc-client-id is needed with oidc-issuer")
	}
	if c.OIDCRedirectURL != "" {
		r, err := url.Parse(c.OIDCRedirectURL)
		if err != nil || r.Host == "" || !strings.HasSuffix(r.Path, "/v1/oidc/callback") {
			return nil, fmt.Errorf("oidc-redirect-url %q: want an absolute URL ending /v1/oidc/callback", c.OIDCRedirectURL)
		}
	}
	if c.OIDCRoleClaim == "" {
		return nil, errors.New("oidc-role-claim must name a claim")
	}
	roles, err := access.ParseRoleMap(c.OIDCRoleMap)
	if err != nil {
		return nil, fmt.Errorf("oidc-role-map: %w", err)
	}
	return &httpapi.OIDCConfig{Issuer: c.OIDCIssuer, ClientID: c.OIDCClientID, ClientSecret: c.OIDCClientSecret, RedirectURL: c.OIDCRedirectURL,
		Claims: access.ClaimMapping{RoleClaim: c.OIDCRoleClaim, ScopeClaim: c.OIDCScopeClaim, UnitClaim: c.OIDCUnitClaim, RoleMap: roles}}, nil
}

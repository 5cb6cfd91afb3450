package webui

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Pool is a named set of AUTOMATIC1111-compatible servers. A member URL
// may carry user:pass, the server's --api-auth credentials, which are
// sent as HTTP basic auth and never logged or shown.
type Pool struct {
	Name    string
	Members []*url.URL
}

var poolName = regexp.MustCompile(`^[a-z0-9-]+$`)

// ParsePools parses EASEL_WEBUI_POOLS:
//
//	studio=http://gpu1:7860,http://gpu2:7860;lab=http://user:pass@gpu3:7860
//
// Pools are separated by ';', members by ','; blank entries are ignored
// and an empty spec means no pools. Names match [a-z0-9-]+ and are
// unique; each pool has at least one http or https member; a server may
// belong to one pool only. Errors never contain credentials.
func ParsePools(spec string) ([]Pool, error) {
	var pools []Pool
	names := map[string]bool{}
	owner := map[string]string{} // member host+path → pool
	for entry := range strings.SplitSeq(spec, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, members, ok := strings.Cut(entry, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return nil, fmt.Errorf("webui pools: entry %d: want name=URL[,URL...]", len(pools)+1)
		}
		if !poolName.MatchString(name) {
			return nil, fmt.Errorf("webui pools: pool name %q: use lowercase letters, digits and '-'", name)
		}
		if names[name] {
			return nil, fmt.Errorf("webui pools: pool %q is defined twice", name)
		}
		names[name] = true
		p := Pool{Name: name}
		for m := range strings.SplitSeq(members, ",") {
			m = strings.TrimSpace(m)
			if m == "" {
				continue
			}
			u, err := parseMember(m)
			if err != nil {
				return nil, fmt.Errorf("webui pools: pool %q member %d: %w", name, len(p.Members)+1, err)
			}
			key := Display(u)
			if prev, dup := owner[key]; dup {
				return nil, fmt.Errorf("webui pools: member %s is listed twice (pools %q and %q); a server belongs to one pool", key, prev, name)
			}
			owner[key] = name
			p.Members = append(p.Members, u)
		}
		if len(p.Members) == 0 {
			return nil, fmt.Errorf("webui pools: pool %q has no members", name)
		}
		pools = append(pools, p)
	}
	return pools, nil
}

func parseMember(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		// url.Error repeats the URL, credentials included: keep the cause only.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("invalid URL: %v", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%s: scheme must be http or https", Display(u))
	case u.Host == "":
		return nil, errors.New("URL has no host")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("%s: URL must not have a query or fragment", Display(u))
	}
	if u.User != nil && u.User.Username() == "" {
		return nil, fmt.Errorf("%s: credentials have an empty user name", Display(u))
	}
	return u, nil
}

// Display is how a member is shown in errors, logs and statuses: host
// and path, never credentials.
func Display(u *url.URL) string {
	return u.Host + strings.TrimSuffix(u.EscapedPath(), "/")
}

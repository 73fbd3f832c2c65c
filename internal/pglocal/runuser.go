package pglocal

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"slices"
	"strconv"
	"syscall"
)

// runUser is the unprivileged account the server runs as when we are root.
type runUser struct {
	name     string
	uid, gid uint32
	groups   []uint32 // supplementary, primary included
}

func lookupRunUser(name string) (*runUser, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL must run as an unprivileged user, but there is no %q system user (create it: useradd --system --home /var/lib/postgresql %s): %w", name, name, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("user %s: non-numeric uid/gid %s/%s", name, u.Uid, u.Gid)
	}
	if uid == 0 {
		return nil, fmt.Errorf("user %s has uid 0; PostgreSQL refuses to run as root", name)
	}
	r := &runUser{name: name, uid: uint32(uid), gid: uint32(gid), groups: []uint32{uint32(gid)}}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil && !slices.Contains(r.groups, uint32(g)) {
				r.groups = append(r.groups, uint32(g))
			}
		}
	}
	return r, nil
}

// chown gives path to the server's user when we are root.
func (c *Cluster) chown(path string) error {
	if c.runAs == nil {
		return nil
	}
	return os.Lchown(path, int(c.runAs.uid), int(c.runAs.gid))
}

func (c *Cluster) serverUID() uint32 {
	if c.runAs != nil {
		return c.runAs.uid
	}
	return uint32(os.Geteuid())
}

func (c *Cluster) serverUserName() string {
	if c.runAs != nil {
		return c.runAs.name
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "uid " + strconv.Itoa(os.Geteuid())
}

func (u *runUser) canSearch(fi fs.FileInfo) bool {
	st := fi.Sys().(*syscall.Stat_t)
	perm := fi.Mode().Perm()
	switch {
	case st.Uid == u.uid:
		return perm&0o100 != 0
	case slices.Contains(u.groups, st.Gid):
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}
